"""Each published entry's card numbers come back from its float16 weights."""

import pytest

import unit_tf
from unit_tf.metrics import evaluation

PUBLISHED = unit_tf.zoo.list(status="published")


def entries_with(prefix):
    return [name for name in PUBLISHED
            if any(m.startswith(prefix) for m in unit_tf.zoo.get_manifest(name)["metrics"])]


@pytest.mark.parametrize("name", entries_with("digits_"))
def test_digits_metrics_reproduce(name):
    metrics = unit_tf.zoo.get_manifest(name)["metrics"]
    result = evaluation.evaluate_toy_digits(unit_tf.zoo.load(name))["metrics"]
    for direction in ("a2b", "b2a"):
        stored = metrics[f"digits_{direction}_mean_distance"]["value"]
        assert result[direction]["mean_distance"] == pytest.approx(stored, abs=0.01)


@pytest.mark.parametrize("name", entries_with("adaptation_"))
def test_adaptation_metrics_reproduce(name):
    metrics = unit_tf.zoo.get_manifest(name)["metrics"]
    result = evaluation.evaluate_adaptation(unit_tf.zoo.load(name))["metrics"]
    for key in ("target_accuracy", "source_accuracy"):
        stored = metrics[f"adaptation_{key}"]["value"]
        # float16 storage may flip a prediction or two (1/539 = 0.002).
        assert result[key] == pytest.approx(stored, abs=0.005)
