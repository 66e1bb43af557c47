"""AdamL2: Adam with coupled L2 weight decay (PyTorch's Adam weight_decay)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from unit_tf.models.optimizers import AdamL2, adam


def run(optimizer, w0, gradients):
    w = keras.Variable(np.array(w0, "float32"))
    for g in gradients:
        optimizer.apply_gradients([(tf.constant(g, tf.float32), w)])
    return np.asarray(w)


def test_zero_gradient_still_decays_through_adam():
    # Step 1 of Adam moves by ~lr * sign(gradient) whatever its size; with L2
    # added to the gradient, a weight with no loss gradient moves by ~lr.
    # Decoupled decay (AdamW) would move it by lr * wd * w only.
    lr, l2 = 0.01, 0.1
    coupled = run(AdamL2(lr, l2=l2, beta_1=0.5, beta_2=0.999), [1.0, -2.0], [[0.0, 0.0]])
    np.testing.assert_allclose(coupled, [1.0 - lr, -2.0 + lr], rtol=1e-5)
    decoupled = run(keras.optimizers.AdamW(lr, weight_decay=l2, beta_1=0.5, beta_2=0.999),
                    [1.0], [[0.0]])
    np.testing.assert_allclose(decoupled, [1.0 - lr * l2 * 1.0], rtol=1e-5)


def test_equals_adam_on_the_gradient_of_half_l2_norm_squared():
    # d/dw (loss + 0.5 * l2 * ||w||^2) = g + l2 * w: the same three steps.
    lr, l2, w0 = 0.05, 0.3, np.array([0.5, -1.5, 2.0], "float32")
    gradients = [np.array([0.1, 0.2, -0.3]), np.array([-0.2, 0.0, 0.4]),
                 np.array([0.3, -0.1, 0.0])]
    ours = run(AdamL2(lr, l2=l2), w0, gradients)
    w = keras.Variable(w0)
    reference = keras.optimizers.Adam(lr)
    for g in gradients:
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.constant(g, tf.float32) * w) + 0.5 * l2 * tf.reduce_sum(w * w)
        reference.apply_gradients([(tape.gradient(loss, w), w)])
    np.testing.assert_allclose(ours, np.asarray(w), rtol=1e-6)


def test_config_round_trip_and_plain_adam_without_decay():
    opt = AdamL2(2e-4, l2=5e-4, beta_1=0.5)
    again = AdamL2.from_config(opt.get_config())
    assert again.l2 == 5e-4 and again.beta_1 == 0.5
    assert type(adam(1e-4)) is keras.optimizers.Adam
    assert isinstance(adam(1e-4, 5e-4), AdamL2)
    with pytest.raises(ValueError, match="l2 must be at least 0"):
        AdamL2(l2=-1.0)
