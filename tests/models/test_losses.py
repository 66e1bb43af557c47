import numpy as np
import pytest
from keras import ops

from unit_tf.models import losses


def val(x):
    return float(ops.convert_to_numpy(x))


def test_kl_reduced_is_mean_square():
    assert val(losses.kl_reduced(np.array([[1.0, -2.0], [0.0, 3.0]]))) == pytest.approx(14 / 4)


def test_kl_full_hand_computed():
    mu = np.array([1.0, 0.0], "float32")
    var = np.array([1.0, 2.0], "float32")
    # 0.5 (1 + 1 - 0 - 1) = 0.5 ; 0.5 (0 + 2 - log 2 - 1) = 0.5 (1 - log 2)
    expected = (0.5 + 0.5 * (1 - np.log(2))) / 2
    assert val(losses.kl_full(mu, var)) == pytest.approx(expected, rel=1e-5)
    assert val(losses.kl_full(np.zeros(3), np.ones(3))) == pytest.approx(0, abs=1e-6)


def test_kl_divergence_picks_the_form():
    assert val(losses.kl_divergence({"mu": np.array([2.0])})) == pytest.approx(4.0)
    assert val(losses.kl_divergence({"mu": np.array([0.0]), "var": np.array([1.0])})) == \
        pytest.approx(0.0, abs=1e-6)


def test_likelihoods():
    x, y = np.array([1.0, 2.0, -1.0]), np.array([0.0, 2.5, 1.0])
    assert val(losses.l1(x, y)) == pytest.approx((1 + 0.5 + 2) / 3)
    assert val(losses.l2(x, y)) == pytest.approx((1 + 0.25 + 4) / 3)


def test_gan_bce_matches_log_sigmoid():
    real, fake = np.array([2.0, -1.0]), np.array([0.5, -3.0])
    sig = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    d = -np.mean(np.log(sig(real))) - np.mean(np.log(1 - sig(fake)))
    g = -np.mean(np.log(sig(fake)))
    assert val(losses.gan_discriminator(real, fake, "bce")) == pytest.approx(d, rel=1e-5)
    assert val(losses.gan_generator(fake, "bce")) == pytest.approx(g, rel=1e-5)


def test_gan_least_squares():
    real, fake = np.array([2.0, 0.0]), np.array([0.5, -1.0])
    assert val(losses.gan_discriminator(real, fake, "lsgan")) == pytest.approx(
        (1 + 1) / 2 + (0.25 + 1) / 2)
    assert val(losses.gan_generator(fake, "lsgan")) == pytest.approx((0.25 + 4) / 2)
    with pytest.raises(ValueError, match="Unknown GAN loss"):
        losses.gan_generator(fake, "wgan")


def test_feature_matching_and_classification():
    assert val(losses.feature_matching(np.ones((2, 3)), np.zeros((2, 3)))) == pytest.approx(1)
    logits = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    labels = np.array([0, 2])
    p0 = np.exp(2) / (np.exp(2) + 2)
    expected = -(np.log(p0) + np.log(1 / 3)) / 2
    assert val(losses.classification(labels, logits)) == pytest.approx(expected, rel=1e-5)


def test_pseudo_label_classification_keeps_confident_teacher_labels():
    # Teacher: example 0 confident class 1 (softmax peak e^5 / (e^5 + 2) = 0.987),
    # example 1 unsure (peak 1/3), example 2 confident class 0.
    teacher = np.array([[0.0, 5.0, 0.0], [0.0, 0.0, 0.0], [6.0, 0.0, 0.0]])
    student = np.array([[1.0, 2.0, 0.0], [3.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    log_p1 = 2.0 - np.log(np.exp(1) + np.exp(2) + 1)  # student's class 1, example 0
    expected = -(log_p1 + np.log(1 / 3)) / 3          # example 1 dropped, divided by 3
    assert val(losses.pseudo_label_classification(teacher, student, 0.9)) == pytest.approx(
        expected, rel=1e-5)
    # Threshold 0 keeps all three (example 1's argmax is class 0).
    log_p0 = 3.0 - np.log(np.exp(3) + 2)
    everything = -(log_p1 + log_p0 + np.log(1 / 3)) / 3
    assert val(losses.pseudo_label_classification(teacher, student, 0.0)) == pytest.approx(
        everything, rel=1e-5)
    # Nothing confident: 0, not NaN.
    assert val(losses.pseudo_label_classification(teacher, student, 1.0)) == 0.0


def test_class_balance_is_the_mean_distributions_kl_from_uniform():
    # Two examples over 2 classes: softmax [e/(e+1), 1/(e+1)] and [1/2, 1/2].
    logits = np.array([[1.0, 0.0], [0.0, 0.0]])
    p = np.array([np.e / (np.e + 1), 1 / (np.e + 1)])
    mean = (p + 0.5) / 2
    expected = float(np.sum(mean * np.log(2 * mean)))
    assert val(losses.class_balance(logits)) == pytest.approx(expected, rel=1e-5)
    # Opposite certain classes average to uniform: 0. One class for all: log K.
    assert val(losses.class_balance(np.array([[30.0, 0.0], [0.0, 30.0]]))) == pytest.approx(
        0.0, abs=1e-6)
    assert val(losses.class_balance(np.full((4, 10), [60.0] + [0.0] * 9))) == pytest.approx(
        np.log(10), rel=1e-5)


# ---- the summed forms of the authors' adaptation trainer -----------------------
def test_reduction_sum_is_the_batch_mean_of_each_example_sum():
    values = np.array([[[1.0, 2.0], [3.0, 4.0]], [[0.0, 0.0], [0.0, 2.0]]])  # 2 examples
    assert val(losses.reduce_elements(values, "mean")) == pytest.approx(12 / 8)
    assert val(losses.reduce_elements(values, "sum")) == pytest.approx((10 + 2) / 2)
    with pytest.raises(ValueError, match="Unknown reduction"):
        losses.reduce_elements(values, "max")


def test_summed_likelihoods_and_kl_hand_computed():
    x = np.array([[1.0, 2.0, -1.0], [0.0, 0.5, 0.0]])
    y = np.array([[0.0, 2.5, 1.0], [0.0, 0.0, 0.0]])
    # Per example: |.| sums 3.5 and 0.5; squares 5.25 and 0.25.
    assert val(losses.l1(x, y, "sum")) == pytest.approx((3.5 + 0.5) / 2)
    assert val(losses.l2(x, y, "sum")) == pytest.approx((5.25 + 0.25) / 2)
    # Summed = mean x elements per example (the authors' MSELoss x C x H x W).
    assert val(losses.l2(x, y, "sum")) == pytest.approx(val(losses.l2(x, y)) * 3)
    mu = np.array([[1.0, -2.0], [0.0, 3.0]])
    assert val(losses.kl_reduced(mu, "sum")) == pytest.approx((5 + 9) / 2)
    var = np.array([[1.0, 2.0], [1.0, 1.0]])
    per_example = [0.5 * (1 + 1 - 0 - 1) + 0.5 * (4 + 2 - np.log(2) - 1), 0.5 * 9]
    assert val(losses.kl_full(mu, var, "sum")) == pytest.approx(np.mean(per_example),
                                                                rel=1e-5)
    assert val(losses.kl_divergence({"mu": mu, "var": var}, "sum")) == pytest.approx(
        np.mean(per_example), rel=1e-5)


def test_feature_matching_forms_hand_computed():
    f1 = np.array([[[1.0, 2.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]]])  # 2 x 2 x 2
    f2 = np.zeros_like(f1)
    # l1_mean: mean |d| over all 8 elements; l2_sum: per-example sums of d^2, averaged.
    assert val(losses.feature_matching(f1, f2)) == pytest.approx(7 / 8)
    assert val(losses.feature_matching(f1, f2, "l2_sum")) == pytest.approx((5 + 4) / 2)
    with pytest.raises(ValueError, match="feature matching form"):
        losses.feature_matching(f1, f2, "cosine")
