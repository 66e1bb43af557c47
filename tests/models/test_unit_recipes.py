"""UNIT under the adaptation recipes: each term of the authors' objective by hand."""

import keras
import numpy as np
import pytest
from keras import ops

from unit_tf import UNIT, get_preset
from unit_tf.data import make_dataset
from unit_tf.models.optimizers import AdamL2

RNG = np.random.RandomState(0)
XA = RNG.uniform(-1, 1, (4, 32, 32, 1)).astype("float32")
XB = RNG.uniform(-1, 1, (4, 32, 32, 1)).astype("float32")
LABELS = np.array([0, 1, 2, 3])


def softplus(t):
    return np.logaddexp(0.0, t)


def numpy_of(x):
    return np.asarray(ops.convert_to_numpy(x), np.float64)


@pytest.fixture(scope="module")
def authors():
    """An authors'-recipe lenet, its four streams in inference mode, and D's readings."""
    model = UNIT("lenet", recipe="authors", seed=0)
    images, codes = model((XA, XB), training=False)
    logits, features = {}, {}
    for key, x, domain in (("a", XA, "a"), ("b", XB, "b"), ("aa", images["aa"], "a"),
                           ("ba", images["ba"], "a"), ("ab", images["ab"], "b"),
                           ("bb", images["bb"], "b")):
        (logit, feature), = model.discriminate(x, domain)
        logits[key], features[key] = numpy_of(logit), numpy_of(feature)
    return model, images, codes, logits, features


def test_discriminator_scores_real_against_half_translation_half_reconstruction(authors):
    model, images, _, logits, _ = authors
    d = model.discriminator_losses(XA, XB, images, LABELS, training=False)
    expected = sum(softplus(-logits[real]).mean()
                   + 0.5 * (softplus(logits[trans]).mean() + softplus(logits[recon]).mean())
                   for real, trans, recon in (("a", "ba", "aa"), ("b", "ab", "bb")))
    assert float(d["d_gan"]) == pytest.approx(expected, rel=1e-5)


def test_generator_asks_d_to_call_translations_and_reconstructions_real(authors):
    model, images, codes, logits, _ = authors
    g = model.generator_losses(XA, XB, images, codes, LABELS, training=False)
    expected = sum(softplus(-logits[key]).mean() for key in ("ba", "ab", "aa", "bb"))
    assert float(g["g_gan"]) == pytest.approx(expected, rel=1e-5)


def test_feature_matching_is_a_per_image_squared_sum_read_without_dropout(authors):
    model, images, _, _, features = authors
    expected = sum(((features[u] - features[v]) ** 2).reshape(len(XA), -1).sum(1).mean()
                   for u, v in (("aa", "ab"), ("ba", "bb")))
    assert features["aa"].shape == (4, 500)       # Table 6: the FC-500 output
    # In the training-mode D step too: dropout stays off for these features.
    for training in (False, True):
        d = model.discriminator_losses(XA, XB, images, LABELS, training=training)
        assert float(d["d_feature_matching"]) == pytest.approx(expected, rel=1e-4)


def test_reconstruction_and_kl_are_summed_per_image(authors):
    model, images, codes, _, _ = authors
    g = model.generator_losses(XA, XB, images, codes, LABELS, training=False)
    recon = sum(((numpy_of(images[key]) - x) ** 2).reshape(len(x), -1).sum(1).mean()
                for key, x in (("aa", XA), ("bb", XB)))
    assert float(g["recon"]) == pytest.approx(recon, rel=1e-5)
    kl = 0.0
    for domain in ("a", "b"):
        mu, var = numpy_of(codes[domain]["mu"]), numpy_of(codes[domain]["var"])
        per_element = 0.5 * (mu ** 2 + var - np.log(var + 1e-8) - 1)
        kl += per_element.reshape(len(mu), -1).sum(1).mean()
    assert float(g["kl"]) == pytest.approx(kl, rel=1e-4)


def test_the_authors_weights_in_the_named_totals(authors):
    model, images, codes, _, _ = authors
    d = model.discriminator_losses(XA, XB, images, LABELS, training=False)
    g = model.generator_losses(XA, XB, images, codes, LABELS, training=False)
    assert set(d) == {"d_gan", "d_class", "d_feature_matching"}
    assert set(g) == {"kl", "recon", "g_gan"}
    # svhn2mnist.yaml: gan_w 1 (0.5 on our sum over domains), cls_w 10,
    # feature_w 1e-4, ll 1e-3, kl 1e-4 (2e-4 on our exact-KL sum).
    d_total = 0.5 * d["d_gan"] + 10 * d["d_class"] + 1e-4 * d["d_feature_matching"]
    g_total = 0.5 * g["g_gan"] + 2e-4 * g["kl"] + 1e-3 * g["recon"]
    assert float(model.weighted_total(d)) == pytest.approx(float(d_total), rel=1e-6)
    assert float(model.weighted_total(g)) == pytest.approx(float(g_total), rel=1e-6)


def test_the_unit_tf_recipe_is_the_presets_own_form():
    assert get_preset("lenet", recipe="unit_tf") == get_preset("lenet")
    model = UNIT("lenet", seed=0)
    images, codes = model((XA, XB), training=False)
    logit = {k: numpy_of(model.discriminate(x, dom)[0][0]) for k, x, dom in
             (("a", XA, "a"), ("b", XB, "b"), ("ba", images["ba"], "a"),
              ("ab", images["ab"], "b"))}
    d = model.discriminator_losses(XA, XB, images, LABELS, training=False)
    expected = sum(softplus(-logit[r]).mean() + softplus(logit[f]).mean()
                   for r, f in (("a", "ba"), ("b", "ab")))       # translations only
    assert float(d["d_gan"]) == pytest.approx(expected, rel=1e-5)
    g = model.generator_losses(XA, XB, images, codes, LABELS, training=False)
    recon = sum(np.mean((numpy_of(images[k]) - x) ** 2) for k, x in (("aa", XA), ("bb", XB)))
    assert float(g["recon"]) == pytest.approx(recon, rel=1e-5)   # per-element means


def test_recipe_model_round_trips_with_its_optimizers(tmp_path):
    model = UNIT("lenet", recipe="authors", seed=1)
    model.compile()
    assert isinstance(model.g_optimizer, AdamL2) and model.d_optimizer.l2 == 5e-4
    model.train_step((XA, XB, LABELS))
    path = str(tmp_path / "authors.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.preset == model.preset and loaded.preset.loss_reduction == "sum"
    assert isinstance(loaded.d_optimizer, AdamL2) and loaded.g_optimizer.l2 == 5e-4
    np.testing.assert_array_equal(numpy_of(loaded.classify(XB, "b")),
                                  numpy_of(model.classify(XB, "b")))
    for a, b in zip(loaded.d_optimizer.variables, model.d_optimizer.variables):
        np.testing.assert_array_equal(numpy_of(a), numpy_of(b))


@pytest.mark.slow
def test_fit_with_the_authors_recipe_on_real_digits():
    keras.utils.set_random_seed(0)
    data = make_dataset("mnist_uci", 32, 32, channels=(1, 1), seed=0).take(40)
    model = UNIT("lenet", recipe="authors", seed=0)
    model.compile()
    x_a, _, labels = next(iter(data))
    accuracy = lambda: float(np.mean(numpy_of(model.classify(x_a, "a")).argmax(1)  # noqa: E731
                                     == labels.numpy()))
    before = accuracy()
    history = model.fit(data, epochs=1, verbose=0).history
    assert all(np.isfinite(v).all() for v in history.values())
    assert history["d_feature_matching"][0] > 0 and history["g_gan"][0] > 0
    # 40 iterations: the class head learns the labelled MNIST digits.
    assert accuracy() > max(0.6, before + 0.3), (before, accuracy())
