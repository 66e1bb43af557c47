"""Evaluates a UNIT model on the paper's protocols and writes the numbers as JSON.

Tasks (definitions are written into the JSON next to the numbers):
  maps        satellite -> map on the 1098 val pairs at 256x256: pixel
              accuracies (a) RGB distance <= 16, (b) max-channel <= 16,
              (c) max-channel < 5, RMSE, and (d) map-class mIoU, each with the
              best constant-colour baseline found on the same ground truth.
  digits      toy digits (arXiv v1): colour-free distance to the known
              translation, both directions.
  adaptation  class-head accuracy on held-out target digits (UCI digits for
              mnist_uci, MNIST-M for mnist_m) and on source test digits (MNIST).

Usage (from the repository root):
  python tools/evaluate.py --task maps --model runs/maps/model.keras \
      --data maps:../shared/data/maps --out results/maps.json
  python tools/evaluate.py --task maps --baseline_only --out results/maps_baselines.json
  python tools/evaluate.py --task digits --model runs/digits/model.keras --out digits.json
  python tools/evaluate.py --task adaptation --model runs/lenet/model.keras \
      --data mnist_uci --out adaptation.json
  python tools/evaluate.py --task adaptation --model runs/mnist2mnistm/model.keras \
      --data mnist_m --out adaptation_mnistm.json
  # Several seeds at once (adaptation): each model's numbers, their mean and spread.
  python tools/evaluate.py --task adaptation --out adaptation.json \
      --model runs/lenet_s0/model.keras,runs/lenet_s1/model.keras,runs/lenet_s2/model.keras

--model takes a .keras file saved from unit_tf.UNIT, a zoo entry name or a
SavedModel folder; for adaptation also a .keras unit_tf.SourceOnlyClassifier
(the no-adaptation baseline), and a comma-separated list of models.
"""

import datetime
import os
import shlex
import sys

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _paths import MAPS_ROOT  # noqa: E402  tools/_paths.py: $UNIT_TF_MAPS_ROOT or ../shared/data/maps

DEFAULT_DATA = {"maps": f"maps:{MAPS_ROOT}", "digits": "mnist_toy",
                "adaptation": "mnist_uci"}

FLAGS = flags.FLAGS


def define_flags():
    """Defines the command-line flags.

    Called only when run as a script, so tests can import this module beside
    other tools without their flag names clashing.
    """
    flags.DEFINE_enum("task", None, ["maps", "digits", "adaptation"], "Evaluation protocol.")
    flags.DEFINE_string("model", None, "A .keras file saved from unit_tf.UNIT, a zoo entry "
                        "name or a SavedModel folder; adaptation: also a SourceOnlyClassifier "
                        ".keras, or several models separated by commas (seeds).")
    flags.DEFINE_string("data", None, "Evaluation data: maps:ROOT or pix2pix:DIR (maps), "
                        "mnist_toy (digits), mnist_uci or mnist_m[:PHOTO_DIR] (adaptation). "
                        "Default per task: "
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
        print(f"maps ({result['num_images']} image pairs of {result['eval_folder']} at "
              f"{result['image_size']}, {result['direction']})")
        print(f"  {'metric':<18}{'model':>9}{'constant':>10}  colour")
        for name, m in metrics.items():
            extra = f" ({m['constant_class']})" if "constant_class" in m else ""
            print(f"  {name:<18}{_fmt(m['model']):>9}{_fmt(m['constant_baseline']):>10}"
                  f"  {tuple(m['constant_colour'])}{extra}")
        ious = result["class_iou"]["model"]
        if ious:
            print("  class IoU: " + ", ".join(f"{k} {_fmt(v, 3)}" for k, v in ious.items()))
            print("  true class -> painted as (share of its pixels):")
            for truth, shares in result["class_flow"].items():
                if shares:
                    print(f"    {truth:<8}" + ", ".join(f"{k} {_fmt(v, 3)}"
                                                    for k, v in shares.items()))
            errors = result["error_by_class"]
            print("  squared error per pixel by true class (share x mean squared error;"
                  " model | RMSE constant; the model's split by painted class):")
            for name, e in errors["model"].items():
                c = errors["rmse_constant"][name]
                split = ", ".join(f"{k} {v:.1f}" for k, v in e["by_painted_class"].items())
                print(f"    {name:<8}share {e['share']:.3f}  {e['contribution']:8.1f} | "
                      f"{c['contribution']:8.1f}  ({split})")
            total = [sum(e["contribution"] for e in errors[k].values())
                     for k in ("model", "rmse_constant")]
            print(f"    {'all':<8}{'':11}  {total[0]:8.1f} | {total[1]:8.1f}")
            print("  of that, pixels painted as their true class: shade (each image's mean"
                  " colour offset) + texture (the rest); model | RMSE constant:")
            for name, e in errors["model"].items():
                parts = []
                for source in (e, errors["rmse_constant"][name]):
                    shade = source["shade_by_painted_class"][name]
                    parts.append(f"{shade:6.1f} + {source['by_painted_class'][name] - shade:6.1f}")
                print(f"    {name:<8}{parts[0]} | {parts[1]}")
    elif result["task"] == "digits":
        print("toy digits: mean colour-free distance (lower is better)")
        for direction, m in metrics.items():
            print(f"  {direction}: {m['mean_distance']:.3f} (+- {m['std']:.3f}, "
                  f"{m['num_digits']} digits); copy-the-input baseline "
                  f"{m['baseline_identity']:.3f}, black-image baseline {m['baseline_blank']:.3f}")
    else:
        print(f"adaptation {result['source_domain']} -> {result['target_domain']}")
        spread = result.get("spread")
        rows = (("target_accuracy", "target accuracy", "target", "held-out images"),
                ("target_accuracy_via_source", "target accuracy, translated to the source",
                 "target", "held-out images"),
                ("source_accuracy", "source accuracy", "source", "test images"))
        for key, label, role, what in rows:
            if key not in metrics:
                continue
            line = f"  {label} {metrics[key]:.4f}"
            if spread and f"{key}_std" in spread:
                line += (f" (mean of {len(result['runs'])} models, std "
                         f"{spread[f'{key}_std']:.4f}, range "
                         f"{spread[f'{key}_min']:.4f}-{spread[f'{key}_max']:.4f})")
            print(f"{line} ({metrics[f'num_{role}']} {what})")


def run(task, model, data, out, limit=None, direction="a2b", size=256, batch_size=4,
        samples_per_image=4096, baseline_only=False, command=None):
    """Evaluates and writes `out`; returns the result dict.

    Args mirror the flags; `command` is recorded in the JSON (default: this
    process's command line).
    """
    if os.path.isdir(out):
        raise ValueError(f"--out {out} is a folder; give the path of the JSON file to write.")
    models = [m for m in (model or "").split(",") if m]
    for path in models:
        if path.endswith(".keras") and not os.path.isfile(path):
            # Checked before the slow TensorFlow import, so typos fail at once.
            raise ValueError(f"--model {path}: no such file.")
    if len(models) > 1 and task != "adaptation":
        raise ValueError("several --model values (comma-separated) apply to --task "
                         "adaptation only; evaluate one translation model at a time.")
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
    if task == "adaptation":
        result = _evaluate_adaptation(models, data, limit, batch_size)
    else:
        translator = translator_lib.load(model) if model and not baseline_only else None
        if task == "maps":
            result = evaluation.evaluate_maps(translator, data, direction=direction,
                                              limit=limit, size=size, batch_size=batch_size,
                                              samples_per_image=samples_per_image)
        else:
            result = evaluation.evaluate_toy_digits(translator, limit=limit,
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


def _evaluate_adaptation(models, data, limit, batch_size):
    """One result for one model; for several, each model's metrics, their mean
    (as "metrics") and their spread (sample std, min, max)."""
    import statistics

    from unit_tf import translator as translator_lib
    from unit_tf.metrics import evaluation

    results = []
    for path in models:
        model = (translator_lib.load_keras_model(path) if path.endswith(".keras")
                 else translator_lib.load(path))
        results.append(evaluation.evaluate_adaptation(model, data, limit=limit,
                                                      batch_size=max(batch_size, 64)))
    result = results[0]
    if len(results) == 1:
        return result
    runs = [{"model": path, **r["metrics"]} for path, r in zip(models, results)]
    metrics, spread = dict(result["metrics"]), {}
    for key in ("target_accuracy", "target_accuracy_via_source", "source_accuracy"):
        if not all(key in r for r in runs):
            continue
        values = [r[key] for r in runs]
        metrics[key] = statistics.fmean(values)
        spread.update({f"{key}_std": statistics.stdev(values), f"{key}_min": min(values),
                       f"{key}_max": max(values)})
    return {**result, "metrics": metrics, "spread": spread, "runs": runs,
            "spread_definition": "std is the sample standard deviation over the models "
                                 "(n - 1 in the denominator)"}


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    result = run(FLAGS.task, FLAGS.model, FLAGS.data, FLAGS.out, FLAGS.limit,
                 FLAGS.direction, FLAGS.size, FLAGS.batch_size,
                 FLAGS.samples_per_image, FLAGS.baseline_only)
    print_table(result)
    print(f"wrote {FLAGS.out}")


if __name__ == "__main__":
    import _cli  # tools/_cli.py: one-line errors (--traceback for the traceback)

    define_flags()
    _cli.run(main)
