"""Toy digits distance and adaptation accuracy against hand-computed values."""

import numpy as np
import pytest

from unit_tf.metrics import classification_accuracy, toy_digit_distance, toy_digit_distances


def test_colour_is_ignored():
    target = np.zeros((1, 4, 4))
    target[0, 1:3, 1:3] = 1.0
    red = np.zeros((1, 4, 4, 3))
    red[..., 0] = target
    cyan = np.zeros((1, 4, 4, 3))
    cyan[..., 1] = cyan[..., 2] = target
    assert toy_digit_distances(red, target)[0] == 0.0
    assert toy_digit_distances(cyan, target)[0] == 0.0


def test_distance_by_hand():
    target = np.zeros((2, 4, 4))
    translated = np.zeros((2, 4, 4, 3))
    translated[0, :2, :2, 2] = 0.5          # 4 pixels off by 0.5: sqrt(4 * 0.25) = 1
    translated[1, ...] = 1.0                 # 16 pixels off by 1: sqrt(16) = 4
    np.testing.assert_allclose(toy_digit_distances(translated, target), [1.0, 4.0])
    assert toy_digit_distance(translated, target) == pytest.approx(2.5)
    with pytest.raises(ValueError, match="do not match"):
        toy_digit_distances(translated[:1], target)


def test_classification_accuracy():
    logits = np.array([[0.1, 2.0, 0.0], [3.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 5.0, 0.0]])
    assert classification_accuracy(logits, [1, 0, 0, 1]) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="do not match"):
        classification_accuracy(logits, [1, 0])
