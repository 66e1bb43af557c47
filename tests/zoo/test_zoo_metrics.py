"""Each published entry's card numbers come back from its float16 weights.

The entries are those of `unit_tf.zoo.list()`: the packaged zoo, or the one
`UNIT_TF_ZOO_ROOT` names (to check an entry before it is committed).
"""

import os
import shlex

import pytest

import unit_tf
from unit_tf.metrics import evaluation

PUBLISHED = unit_tf.zoo.list(status="published")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The five maps readings of tools/evaluate.py and how far the float16 weights
# may move each from the stored float32 number: half a unit of the card's last
# digit (fractions to 3 decimals, RMSE to 1), over 10x the largest change
# measured (4e-5 and 0.0024 RMSE on 64 pairs of an 18K-iteration model;
# BUILD_NOTES.md, "A maps entry's card numbers from its float16 weights").
MAPS_TOLERANCE = {"rgb_distance_16": 5e-4, "max_channel_16": 5e-4, "max_channel_lt5": 5e-4,
                  "rmse": 0.05, "map_class_miou": 5e-4}
MAPS_FIRST = 64  # the quick check: the first 64 val pairs, stored as maps_first64_*


def entries_with(prefix):
    return [name for name in PUBLISHED
            if any(m.startswith(prefix) for m in unit_tf.zoo.get_manifest(name)["metrics"])]


def maps_entries(prefix):
    """Published entries with maps readings stored under `prefix`."""
    return [name for name in PUBLISHED
            if any(f"{prefix}{reading}_model" in unit_tf.zoo.get_manifest(name)["metrics"]
                   for reading in MAPS_TOLERANCE)]


@pytest.mark.parametrize("name", entries_with("digits_"))
def test_digits_metrics_reproduce(name):
    metrics = unit_tf.zoo.get_manifest(name)["metrics"]
    result = evaluation.evaluate_toy_digits(unit_tf.zoo.load(name))["metrics"]
    for direction in ("a2b", "b2a"):
        stored = metrics[f"digits_{direction}_mean_distance"]["value"]
        assert result[direction]["mean_distance"] == pytest.approx(stored, abs=0.01)


@pytest.mark.parametrize("name", entries_with("adaptation_"))
def test_adaptation_metrics_reproduce(name):
    """Every stored accuracy (through D_b, via the source, on the source) comes
    back from the float16 weights on the data its command names."""
    metrics = unit_tf.zoo.get_manifest(name)["metrics"]
    commands = {metrics[k]["command"] for k in metrics if k.startswith("adaptation_")}
    assert len(commands) == 1, f"{name}: the adaptation_* numbers name several commands"
    flags = evaluate_flags(commands.pop())
    data = flags.get("data", "mnist_uci")  # tools/evaluate.py's default
    result = evaluation.evaluate_adaptation(unit_tf.zoo.load(name), data)["metrics"]
    keys = [k for k in ("target_accuracy", "target_accuracy_via_source", "source_accuracy")
            if f"adaptation_{k}" in metrics]
    assert "target_accuracy" in keys and "source_accuracy" in keys
    for key in keys:
        stored = metrics[f"adaptation_{key}"]["value"]
        # float16 storage may flip a prediction or two (1/539 = 0.002).
        assert result[key] == pytest.approx(stored, abs=0.005), key


def evaluate_flags(command):
    """The flags of a tools/evaluate.py command line, {name: value} (strings)."""
    words = shlex.split(command)
    found = {}
    for i, word in enumerate(words):
        if word.startswith("--"):
            name, equals, value = word[2:].partition("=")
            found[name] = value if equals else (words[i + 1] if i + 1 < len(words) else "")
    return found


def local_maps_data(spec):
    """`spec` (maps:ROOT, maps_cyclegan:ROOT or pix2pix:DIR) with its folder found here.

    A relative folder is read from the repository root, where the publisher
    ran tools/evaluate.py (`../shared/data/maps` is the maps data beside the
    repository). A checkout that has no such folder beside it (a git worktree,
    say) finds a maps root in `UNIT_TF_MAPS_ROOT`, the variable tools/evaluate.py
    takes its default maps data from. Skips the test when neither is there.
    """
    form, _, path = spec.partition(":")
    folder = os.path.normpath(os.path.join(REPO, path))
    if not os.path.isdir(folder) and form in ("maps", "maps_cyclegan"):
        folder = os.environ.get("UNIT_TF_MAPS_ROOT") or folder
    if not os.path.isdir(folder):
        pytest.skip(f"the maps data of the stored numbers ({spec}) is not here: "
                    f"{os.path.normpath(os.path.join(REPO, path))} does not exist (and "
                    "UNIT_TF_MAPS_ROOT names no maps root); put the pix2pix maps folder "
                    "there or set UNIT_TF_MAPS_ROOT to it.")
    return f"{form}:{folder}"


def check_maps_readings(name, prefix, limit):
    """Re-evaluates entry `name` as its `prefix` numbers were measured and compares
    each reading (the model's, and the constant baseline's as a check that the
    val data is the same) within MAPS_TOLERANCE."""
    metrics = unit_tf.zoo.get_manifest(name)["metrics"]
    stored = {r: metrics[f"{prefix}{r}_model"] for r in MAPS_TOLERANCE
              if f"{prefix}{r}_model" in metrics}
    commands = {record["command"] for record in stored.values()}
    assert len(commands) == 1, f"{name}: the {prefix}* readings name several commands"
    command = commands.pop()
    flags = evaluate_flags(command)
    stored_limit = int(flags["limit"]) if flags.get("limit") else None
    assert stored_limit == limit, (
        f"{name}: the {prefix}* numbers come from --limit {stored_limit} ({command}); "
        f"this test reads them as {limit or 'all'} pairs. tools/publish.py names a "
        "--limit N result TASK_firstN_* unless --eval PREFIX=PATH renames it.")
    assert flags.get("data"), f"{name}: the {prefix}* command names no --data ({command})"
    data = local_maps_data(flags["data"])
    result = evaluation.evaluate_maps(
        unit_tf.zoo.load(name), data, limit=limit,
        direction=flags.get("direction", "a2b"), size=int(flags.get("size", 256)),
        samples_per_image=int(flags.get("samples_per_image", 4096)), log=None)
    if f"{prefix}num_images" in metrics:
        assert result["num_images"] == metrics[f"{prefix}num_images"]["value"], (
            f"{name}: the data has other val pairs than the stored numbers'")

    rows, bad = [], []
    for reading, tolerance in MAPS_TOLERANCE.items():
        for part in ("model", "constant_baseline"):
            key = f"{prefix}{reading}_{part}"
            if key not in metrics:
                continue
            value = metrics[key]["value"]
            diff = result["metrics"][reading][part] - value
            rows.append(f"  {key:<48} stored {value:10.6f}  measured "
                        f"{result['metrics'][reading][part]:10.6f}  diff {diff:+.6f} "
                        f"(tolerance {tolerance})")
            if abs(diff) > tolerance:
                bad.append(key)
                rows[-1] += "  <- out of tolerance"
    table = "\n".join(rows)
    print(f"{name}, {result['num_images']} pairs, float16 weights against the stored "
          f"numbers:\n{table}")
    assert not bad, f"{name}: {bad} differ from the card:\n{table}"


@pytest.mark.slow
@pytest.mark.parametrize("name", maps_entries("maps_"))
def test_maps_metrics_reproduce(name):
    """All val pairs (1098 of the pix2pix maps data: about 3 CPU minutes)."""
    check_maps_readings(name, "maps_", limit=None)


@pytest.mark.parametrize("name", maps_entries(f"maps_first{MAPS_FIRST}_"))
def test_maps_first_pairs_metrics_reproduce(name):
    check_maps_readings(name, f"maps_first{MAPS_FIRST}_", limit=MAPS_FIRST)
