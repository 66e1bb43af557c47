"""Exports a zoo entry or a .keras checkpoint as a SavedModel or a TFLite file.

Usage:
    # TF Serving layout: /srv/models/map_sat2map/1/
    python tools/export.py --zoo=map_sat2map --format=saved_model --out=/srv/models

    # One .tflite file with translate_a2b / translate_b2a runners, 256x256
    python tools/export.py --checkpoint=runs/map/final.keras --format=tflite \
        --quantize=float16 --size=256 --out=map.tflite

A private zoo is read from the UNIT_TF_ZOO_ROOT environment variable.
Nothing is created until the model has loaded; bad input ends with one
`error:` line (--traceback for the traceback).
"""

import os

from absl import app, flags

FORMATS = ("saved_model", "tflite")
QUANTIZATIONS = ("none", "float16", "int8")

flags.DEFINE_string("zoo", None, "Zoo entry name (see unit_tf.zoo.list()).")
flags.DEFINE_string("checkpoint", None, "A .keras file saved from a unit_tf.UNIT.")
flags.DEFINE_enum("format", "saved_model", FORMATS, "What to write.")
flags.DEFINE_enum("quantize", "none", QUANTIZATIONS, "TFLite weight quantisation.")
flags.DEFINE_string("out", None, "saved_model: the base folder (the export goes to "
                    "<out>/<name>/<version>); tflite: the .tflite file.")
flags.DEFINE_integer("version", None, "saved_model version folder (default 1).")
flags.DEFINE_string("name", None, "saved_model model name (default the zoo entry or the "
                    "checkpoint's file name).")
flags.DEFINE_integer("size", None, "tflite input size (square; default the preset's).")
flags.DEFINE_bool("overwrite", False, "Replace an existing export.")


def check_args(zoo=None, checkpoint=None, fmt="saved_model", quantize="none", out=None,
               version=None, name=None, size=None):
    """Raises app.UsageError for a bad flag combination."""
    if (zoo is None) == (checkpoint is None):
        raise app.UsageError("give exactly one of --zoo=NAME or --checkpoint=PATH.keras.")
    if checkpoint is not None and not checkpoint.endswith(".keras"):
        raise app.UsageError(f"--checkpoint must be a .keras file, got {checkpoint!r}.")
    if checkpoint is not None and not os.path.isfile(checkpoint):
        raise app.UsageError(f"--checkpoint {checkpoint!r} does not exist.")
    if fmt not in FORMATS:
        raise app.UsageError(f"--format must be one of {FORMATS}, got {fmt!r}.")
    if quantize not in QUANTIZATIONS:
        raise app.UsageError(f"--quantize must be one of {QUANTIZATIONS}, got {quantize!r}.")
    if not out:
        raise app.UsageError("--out is required.")
    if fmt == "saved_model":
        if quantize != "none":
            raise app.UsageError("--quantize applies to --format=tflite only; a SavedModel "
                                 "keeps float32 weights.")
        if size is not None:
            raise app.UsageError("--size applies to --format=tflite only; a SavedModel "
                                 "takes any size.")
        if version is not None and version < 1:
            raise app.UsageError(f"--version must be a positive integer, got {version}.")
    else:
        if version is not None or name is not None:
            raise app.UsageError("--version and --name apply to --format=saved_model only.")
        if not out.endswith(".tflite"):
            raise app.UsageError(f"--out must be a .tflite file for --format=tflite, "
                                 f"got {out!r}.")
        if size is not None and size < 1:
            raise app.UsageError(f"--size must be positive, got {size}.")


def run(zoo=None, checkpoint=None, fmt="saved_model", quantize="none", out=None,
        version=None, name=None, size=None, overwrite=False):
    """Checks the arguments, loads the model and exports it; returns the path."""
    check_args(zoo, checkpoint, fmt, quantize, out, version, name, size)
    name = name or zoo or os.path.splitext(os.path.basename(checkpoint))[0]
    target = os.path.join(out, name, str(version or 1)) if fmt == "saved_model" else out
    # Checked before TensorFlow is imported, so the mistake costs no time.
    if os.path.exists(target) and not overwrite:
        raise app.UsageError(f"{target} exists; pass --overwrite or another --version.")
    from unit_tf.export import export_saved_model, export_tflite
    from unit_tf.fileio import check_writable_folder
    from unit_tf.translator import load

    if fmt == "saved_model":
        check_writable_folder(out)
    else:
        if os.path.isdir(out):
            raise ValueError(f"--out {out} is a folder; give the .tflite file to write.")
        check_writable_folder(os.path.dirname(os.path.abspath(out)), "--out's folder")
    if zoo is not None:
        import unit_tf.zoo

        translator = unit_tf.zoo.load(zoo)
    else:
        translator = load(checkpoint)
    if fmt == "saved_model":
        return export_saved_model(translator, out, name, version=version or 1,
                                  overwrite=overwrite)
    return export_tflite(translator, out, quantize=quantize, size=size)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    f = flags.FLAGS
    path = run(f.zoo, f.checkpoint, f.format, f.quantize, f.out, f.version, f.name, f.size,
               f.overwrite)
    if os.path.isdir(path):
        size = sum(os.path.getsize(os.path.join(d, n))
                   for d, _, names in os.walk(path) for n in names)
    else:
        size = os.path.getsize(path)
    print(f"wrote {path} ({size / 1e6:.2f} MB)")


if __name__ == "__main__":
    import _cli  # tools/_cli.py: one-line errors

    _cli.run(main)
