"""Evaluates a UNIT model on the paper's protocols and writes the numbers as JSON.

Tasks (definitions are written into the JSON next to the numbers):
  maps        satellite -> map on the 1098 val pairs at 256x256: pixel
              accuracies (a) RGB distance <= 16, (b) max-channel <= 16,
              (c) max-channel < 5, RMSE, and (d) map-class mIoU, each with the
              best constant-colour baseline found on the same ground truth.
  digits      toy digits (arXiv v1): colour-free distance to the known
              translation, both directions.
  adaptation  class-head accuracy on held-out target digits (UCI) and on
              source test digits (MNIST).

Usage (from the repository root):
  python tools/evaluate.py --task maps --model runs/maps/model.keras \
      --data maps:/work/shared/data/maps --out results/maps.json
  python tools/evaluate.py --task maps --baseline_only --out results/maps_baselines.json
  python tools/evaluate.py --task digits --model runs/digits/model.keras --out digits.json
  python tools/evaluate.py --task adaptation --model runs/lenet/model.keras \
      --data mnist_uci --out adaptation.json

--model takes a .keras file saved from unit_tf.UNIT (and, where the library
provides unit_tf.translator.load, a zoo entry name or a SavedModel folder).
"""

import datetime
import os
import shlex
import sys

from absl import app, flags

DEFAULT_MAPS_ROOT = os.environ.get("UNIT_TF_MAPS_ROOT", "/work/shared/data/maps")
DEFAULT_DATA = {"maps": f"maps:{DEFAULT_MAPS_ROOT}", "digits": "mnist_toy",
                "adaptation": "mnist_uci"}

FLAGS = flags.FLAGS


def define_flags():
    """Defines the command-line flags.

    Called only when run as a script, so tests can import this module beside
    other tools without their flag names clashing.
    """
    flags.DEFINE_enum("task", None, ["maps", "digits", "adaptation"], "Evaluation protocol.")
    flags.DEFINE_string("model", None, "A .keras file saved from unit_tf.UNIT (or a zoo entry "
                        "name / SavedModel folder where unit_tf.translator.load exists).")
    flags.DEFINE_string("data", None, "Evaluation data: maps:ROOT or pix2pix:DIR (maps), "
                        "mnist_toy (digits), mnist_uci (adaptation). Default per task: "
                        f"{DEFAULT_DATA}.")
    flags.DEFINE_integer("limit", None, "Evaluate only the first N images (quick checks).",
                         lower_bound=1)
    flags.DEFINE_string("out", None, "Where to write the JSON results.")
    flags.DEFINE_enum("direction", "a2b", ["a2b", "b2a"],
                      "maps: a2b translates the left (satellite) halves into maps.")
    flags.DEFINE_integer("size", 256, "maps: evaluation resolution (both halves resized).",
                         lower_bound=8)
    flags.DEFINE_integer("batch_size", 4, "Images per model call.", lower_bound=1)
    flags.DEFINE_integer("samples_per_image", 4096,
                         "maps: pixels per ground-truth map sampled for the constant search.",
                         lower_bound=1)
    flags.DEFINE_bool("baseline_only", False,
                      "maps: compute only the constant baselines (no --model needed).")
    flags.mark_flags_as_required(["task", "out"])


def _fmt(value, digits=4):
    return "-" if value is None else f"{value:.{digits}f}"


def print_table(result):
    """A short human-readable summary of a result dict."""
    metrics = result["metrics"]
    if result["task"] == "maps":
        print(f"maps ({result['num_images']} val images at {result['image_size']}, "
              f"{result['direction']})")
        print(f"  {'metric':<18}{'model':>9}{'constant':>10}  colour")
        for name, m in metrics.items():
            extra = f" ({m['constant_class']})" if "constant_class" in m else ""
            print(f"  {name:<18}{_fmt(m['model']):>9}{_fmt(m['constant_baseline']):>10}"
                  f"  {tuple(m['constant_colour'])}{extra}")
        ious = result["class_iou"]["model"]
        if ious:
            print("  class IoU: " + ", ".join(f"{k} {_fmt(v, 3)}" for k, v in ious.items()))
    elif result["task"] == "digits":
        print("toy digits: mean colour-free distance (lower is better)")
        for direction, m in metrics.items():
            print(f"  {direction}: {m['mean_distance']:.3f} (+- {m['std']:.3f}, "
                  f"{m['num_digits']} digits); copy-the-input baseline "
                  f"{m['baseline_identity']:.3f}, black-image baseline {m['baseline_blank']:.3f}")
    else:
        print(f"adaptation {result['source_domain']} -> {result['target_domain']}")
        print(f"  target accuracy {metrics['target_accuracy']:.4f} "
              f"({metrics['num_target']} held-out images)")
        print(f"  source accuracy {metrics['source_accuracy']:.4f} "
              f"({metrics['num_source']} test images)")


def run(task, model, data, out, limit=None, direction="a2b", size=256, batch_size=4,
        samples_per_image=4096, baseline_only=False, command=None):
    """Evaluates and writes `out`; returns the result dict.

    Args mirror the flags; `command` is recorded in the JSON (default: this
    process's command line).
    """
    if model and model.endswith(".keras") and not os.path.isfile(model):
        # Checked before the slow TensorFlow import, so typos fail at once.
        raise ValueError(f"--model {model}: no such file.")
    from unit_tf.data import parse_spec
    from unit_tf.metrics import evaluation
    from unit_tf import translator as translator_lib
    from unit_tf.fileio import atomic_write_json

    data = data or DEFAULT_DATA[task]
    parse_spec(data)
    if baseline_only and task != "maps":
        raise ValueError("--baseline_only applies to --task maps only.")
    if model is None and not baseline_only:
        raise ValueError("--model is required (or --baseline_only for the maps "
                         "constant baselines).")
    translator = translator_lib.load(model) if model and not baseline_only else None
    if task == "maps":
        result = evaluation.evaluate_maps(translator, data, direction=direction,
                                          limit=limit, size=size, batch_size=batch_size,
                                          samples_per_image=samples_per_image)
    elif task == "digits":
        result = evaluation.evaluate_toy_digits(translator, limit=limit,
                                                batch_size=max(batch_size, 64))
    else:
        result = evaluation.evaluate_adaptation(translator, data, limit=limit,
                                                batch_size=max(batch_size, 64))
    import unit_tf
    result = {
        "command": command or " ".join(shlex.quote(a) for a in ["python"] + sys.argv),
        "model": None if baseline_only else model,
        "data": data,
        "limit": limit,
        "unit_tf_version": unit_tf.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **result,
    }
    atomic_write_json(out, result)
    return result


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    try:
        result = run(FLAGS.task, FLAGS.model, FLAGS.data, FLAGS.out, FLAGS.limit,
                     FLAGS.direction, FLAGS.size, FLAGS.batch_size,
                     FLAGS.samples_per_image, FLAGS.baseline_only)
    except (ValueError, OSError, RuntimeError) as e:
        sys.exit(f"error: {e}")
    print_table(result)
    print(f"wrote {FLAGS.out}")


if __name__ == "__main__":
    define_flags()
    app.run(main)
