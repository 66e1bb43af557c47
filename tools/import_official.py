"""Imports an authors' released UNIT generator (mingyuliutw/UNIT, branch version_02).

Reads the authors' config (its `gen:` block) and a `*_gen_*.pkl` checkpoint,
in the 2017 legacy format or the zip format of torch >= 1.6, without PyTorch
and without running the pickle, and writes a unit_tf model. The weights stay
under the authors' licence, CC BY-NC-SA 4.0 (non-commercial).

Usage:
    python tools/import_official.py --config cat2tiger.yaml \
        --weights cat2tiger_gen_00500000.pkl --name cat2tiger --domains cat,tiger \
        --out models
    # -> models/cat2tiger.keras; add a zoo entry folder models/cat2tiger/ with
    #    --zoo --images_a cats/ --images_b tigers/   (a few images of each domain)
    python tools/export.py --checkpoint models/cat2tiger.keras --format tflite \
        --out cat2tiger.tflite
    UNIT_TF_ZOO_ROOT=models python tools/export.py --zoo cat2tiger --out /srv/models

Nothing is written when the config, the checkpoint or the images are wrong.
"""

import os
import re
import shlex
import sys

from absl import app, flags

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

FLAGS = flags.FLAGS
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")  # a zoo entry name


def define_flags():
    flags.DEFINE_string("config", None, "The authors' config YAML (exps/unit/*.yaml); its "
                        "gen: block is read.")
    flags.DEFINE_string("weights", None, "The generator checkpoint, e.g. "
                        "cat2tiger_gen_00500000.pkl.")
    flags.DEFINE_string("name", None, "Model name: <out>/<name>.keras and the zoo entry "
                        "<out>/<name>/ (lower case, digits, _ . -).")
    flags.DEFINE_string("out", None, "Output folder.")
    flags.DEFINE_list("domains", ["a", "b"], "Names of domains A and B, e.g. cat,tiger.")
    flags.DEFINE_bool("zoo", False, "Also write a zoo entry folder <out>/<name>/.")
    flags.DEFINE_list("images_a", None, "--zoo: image files or folders of domain A for the "
                      "sample grid and reference translations.")
    flags.DEFINE_list("images_b", None, "--zoo: the same for domain B.")
    flags.DEFINE_string("description", None, "--zoo: one paragraph for the manifest and card.")
    flags.DEFINE_string("data", None, "--zoo: what the authors trained on, if known.")
    flags.DEFINE_string("data_license", None, "--zoo: that data's licence, if known.")
    flags.DEFINE_enum("weights_dtype", "float16", ["float16", "float32"],
                      "--zoo: storage dtype of the entry's weights.")
    flags.DEFINE_bool("overwrite", False, "Replace existing outputs.")
    flags.mark_flags_as_required(["config", "weights", "name", "out"])


def check_args(config, weights, name, out, domains, zoo, images_a, images_b, overwrite):
    """Raises ValueError for bad arguments, before anything slow or written."""
    for flag, path in (("--config", config), ("--weights", weights)):
        if not os.path.isfile(path):
            raise ValueError(f"{flag} {path}: no such file.")
    if not _NAME.match(name or ""):
        raise ValueError(f"--name {name!r} must be lower case letters, digits, '_', '.', "
                         "'-' (it names the .keras file and the zoo entry).")
    if len(domains) != 2 or not all(domains):
        raise ValueError(f"--domains needs two names, A and B, e.g. cat,tiger; got {domains}.")
    if zoo and not (images_a and images_b):
        raise ValueError("--zoo needs --images_a and --images_b: a few real images of each "
                         "domain for the entry's sample grid and reference translations.")
    if not zoo and (images_a or images_b):
        raise ValueError("--images_a / --images_b are for --zoo only.")
    targets = [os.path.join(out, name + ".keras")] + ([os.path.join(out, name)] if zoo else [])
    existing = [t for t in targets if os.path.exists(t)]
    if existing and not overwrite:
        raise ValueError(f"{', '.join(existing)} exists; pass --overwrite or another --name.")


def load_examples(entries, channels, preset):
    """uint8 [N, S, S, C]: every image's centre square, all cut to one side S."""
    import numpy as np
    from unit_tf.data import images as img

    paths = []
    for entry in entries:
        paths += img.list_images(entry) if os.path.isdir(entry) else [entry]
    pictures = [img.load_image(path, channels) for path in paths]
    side = min(preset.image_size, *(min(p.shape[:2]) for p in pictures))
    side -= side % preset.size_divisor
    if side < preset.size_divisor:
        raise ValueError(f"the example images are too small; they need at least "
                         f"{preset.size_divisor}x{preset.size_divisor} pixels.")

    def centre(p):
        top, left = (p.shape[0] - side) // 2, (p.shape[1] - side) // 2
        return p[top:top + side, left:left + side]

    return np.stack([centre(p) for p in pictures])


def run(config, weights, name, out, domains=("a", "b"), zoo=False, images_a=None,
        images_b=None, description=None, data=None, data_license=None,
        weights_dtype="float16", overwrite=False, command=None):
    """Imports the checkpoint; returns the paths written (the .keras, then the entry)."""
    check_args(config, weights, name, out, domains, zoo, images_a, images_b, overwrite)
    import keras

    from unit_tf.fileio import atomic_save_keras
    from unit_tf.importers import entry, import_generator, read_gen_config

    keras.mixed_precision.set_global_policy("float32")
    gen = read_gen_config(config)
    model = import_generator(gen, weights, domain_names=domains)
    examples = None
    if zoo:  # read before writing anything, so a bad image leaves no outputs
        examples = (load_examples(images_a, model.preset.channels_a, model.preset),
                    load_examples(images_b, model.preset.channels_b, model.preset))
    os.makedirs(out, exist_ok=True)
    written = [atomic_save_keras(model, os.path.join(out, name + ".keras"))]
    if not zoo:
        return written
    a, b = domains
    description = description or (
        f"{a} <-> {b}: the authors' released UNIT translator "
        f"({os.path.basename(weights)}), imported from their PyTorch checkpoint.")
    command = command or "python tools/import_official.py " + shlex.join(
        [f"--config={config}", f"--weights={weights}", f"--name={name}", f"--out={out}",
         f"--domains={a},{b}", "--zoo", f"--images_a={','.join(images_a)}",
         f"--images_b={','.join(images_b)}"])
    try:
        entry.write_import_entry(
            model, os.path.join(out, name), gen=gen, checkpoint=weights, command=command,
            images_a=examples[0], images_b=examples[1], description=description,
            data=data or entry.DEFAULT_DATA,
            data_license=data_license or entry.DEFAULT_DATA_LICENSE,
            weights_dtype=weights_dtype, overwrite=overwrite)
    except BaseException:
        os.remove(written[0])  # all or nothing
        raise
    return written + [os.path.join(out, name)]


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    f = FLAGS
    command = "python tools/import_official.py " + shlex.join(sys.argv[1:])
    try:
        written = run(f.config, f.weights, f.name, f.out, tuple(f.domains), f.zoo,
                      f.images_a, f.images_b, f.description, f.data, f.data_license,
                      f.weights_dtype, f.overwrite, command=command)
    except (ValueError, OSError) as e:
        sys.exit(f"error: {e}")
    for path in written:
        print(f"wrote {path}")
    print("The weights are the authors' and stay under CC BY-NC-SA 4.0 (non-commercial).")


if __name__ == "__main__":
    define_flags()
    app.run(main)
