"""Translates image files with a UNIT model and writes PNGs.

Any input size works for fully convolutional presets (the translator pads to
the net's size divisor and crops back); fixed-size presets (digits) take
their own size only. Gray, RGB and RGBA inputs are converted to the
channels the source domain expects (alpha composited on white). Each output
is written to a temp file and renamed, so a stopped run leaves no partial
PNGs.

Usage (from the repository root):
  python tools/translate.py --model runs/maps/model.keras --direction a2b \
      --input photos/ --output out/
  # pix2pix-style side-by-side files: translate the left (satellite) halves
  python tools/translate.py --model runs/maps/model.keras --direction a2b \
      --input ../shared/data/maps/val/1.jpg,../shared/data/maps/val/2.jpg \
      --half left --output out/

Folders are searched recursively and their layout is kept under --output;
each output is named after its input with a .png suffix. A corrupt input
file stops the run before anything is written; with --skip_bad such files
are skipped and listed at the end. --output is created only when the first
PNG is written. Bad input ends with one `error:` line (--traceback for the
traceback).
"""

import os

from absl import app, flags

FLAGS = flags.FLAGS


def define_flags():
    """Defines the command-line flags.

    Called only when run as a script, so tests can import this module beside
    other tools without their flag names clashing.
    """
    flags.DEFINE_string("model", None, "A .keras file saved from unit_tf.UNIT (or a zoo entry "
                        "name / SavedModel folder where unit_tf.translator.load exists).")
    flags.DEFINE_enum("direction", "a2b", ["a2b", "b2a"], "a2b: domain A -> B; b2a: B -> A.")
    flags.DEFINE_list("input", None, "Image files and/or folders, comma-separated.")
    flags.DEFINE_string("output", None, "Folder for the translated PNGs (created if needed).")
    flags.DEFINE_enum("half", None, ["left", "right"],
                      "Take only this half of each input (pix2pix side-by-side files).")
    flags.DEFINE_bool("skip_bad", False, "Skip corrupt image files (listed at the end) instead "
                      "of stopping before anything is written.")
    flags.mark_flags_as_required(["model", "input", "output"])


def plan_outputs(inputs, output, bad=None):
    """[(input path, output path)] for files and folders; checks every input first.

    Args:
        inputs: image files and folders.
        output: the output folder.
        bad: None to raise on the first corrupt file; else a list to which
            each corrupt file's message is appended (the file is left out).

    Raises:
        ValueError: a missing input, an empty or image-less folder, a corrupt
            file (named), or two inputs that would write the same output.
    """
    from unit_tf.data import images as img

    def usable(path):
        try:
            img.check_image_file(path)
        except ValueError as e:
            if bad is None:
                raise
            bad.append(str(e))
            return False
        return True

    plan = []
    for entry in inputs:
        if os.path.isdir(entry):
            for path in img.list_images(entry, check=False):
                if usable(path):
                    relative = os.path.relpath(path, entry)
                    plan.append((path, os.path.join(output,
                                                    os.path.splitext(relative)[0] + ".png")))
        elif os.path.isfile(entry):
            if usable(entry):
                name = os.path.splitext(os.path.basename(entry))[0] + ".png"
                plan.append((entry, os.path.join(output, name)))
        else:
            raise ValueError(f"--input {entry}: no such file or folder.")
    seen = {}
    for source, target in plan:
        if target in seen:
            raise ValueError(f"{seen[target]} and {source} would both be written to "
                             f"{target}; translate them in separate runs.")
        seen[target] = source
    return plan


def source_channels(translator, direction):
    """Channels of the source domain of `direction` (3 when the translator does not say).

    Keras-backed translators carry the preset; exported ones a {"a", "b"}
    `channels` dict.
    """
    source = "a" if direction == "a2b" else "b"
    preset = getattr(translator, "preset", None)
    if preset is not None:
        return getattr(preset, f"channels_{source}")
    channels = getattr(translator, "channels", None)
    if isinstance(channels, dict) and source in channels:
        return int(channels[source])
    return 3


def run(model, direction, inputs, output, half=None, skip_bad=False, log=print):
    """Translates every input; returns the list of written paths.

    With `skip_bad`, corrupt files are skipped and listed through `log` at
    the end; without, the first one raises before anything is written.
    """
    for entry in inputs:
        # Checked before the slow TensorFlow import, so typos fail at once.
        if not os.path.exists(entry):
            raise ValueError(f"--input {entry}: no such file or folder.")
    from unit_tf import translator as translator_lib
    from unit_tf.data import images as img
    from unit_tf.fileio import atomic_write_png, check_writable_folder

    bad = [] if skip_bad else None
    plan = plan_outputs(inputs, output, bad)
    check_writable_folder(output, "--output")
    translator = translator_lib.load(model)
    translate = getattr(translator, f"translate_{direction}")
    channels = source_channels(translator, direction)
    written = []
    for source, target in plan:
        try:
            image = img.load_image(source, channels, half)
        except ValueError as e:
            if bad is None:
                raise
            bad.append(str(e))
            continue
        try:
            result = translate(image)
        except ValueError as e:
            raise ValueError(f"{source}: {e}") from e
        atomic_write_png(target, result)  # makes --output and its subfolders as needed
        written.append(target)
        if log:
            log(f"{source} -> {target}")
    if bad and log:
        log(f"skipped {len(bad)} bad file(s):")
        for message in bad:
            log(f"  {message}")
    if bad and not written:
        raise ValueError(f"no input image could be read ({len(bad)} skipped); nothing "
                         "was written.")
    return written


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    written = run(FLAGS.model, FLAGS.direction, FLAGS.input, FLAGS.output, FLAGS.half,
                  FLAGS.skip_bad)
    print(f"wrote {len(written)} image(s) to {FLAGS.output}")


if __name__ == "__main__":
    import _cli  # tools/_cli.py: one-line errors

    define_flags()
    _cli.run(main)
