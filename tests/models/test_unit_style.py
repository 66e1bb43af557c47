"""UNIT with a style code for domain B (preset field style_dim; not part of UNIT)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from unit_tf import UNIT, flops
from unit_tf.data import mnist
from unit_tf.layers import StyleModulation
from unit_tf.visualize import sample_grid

RNG = np.random.RandomState(0)
XA = RNG.uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
XB = RNG.uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
STYLED = {"style_dim": 4, "loss_weights": {"style_reconstruction": 1.0}}


def numpy_of(x):
    return np.asarray(ops.convert_to_numpy(x), np.float64)


def test_parameter_counts_pinned():
    # lenet_spatial (5,174,451) + S_b: the encoder's three front convolutions
    # without norms, 3->32 k7 (4,736), 32->64 k3 s2 (18,496), 64->128 k3 s2
    # (73,856), then a dense 128->8 (1,032) = 98,120; + the modulations of the
    # inputs of G_b's six private layers (128, 128, 128, 128, 64 and 32
    # channels), dense 8->2C layers: 9 x 2 x 608 = 10,944, in the generator.
    model = UNIT("lenet_spatial", overrides={"style_dim": 8})
    assert model.style_encoder.count_params() == 98_120
    assert model.generator.count_params() == 2_248_902 + 10_944
    assert model.count_params() == 5_174_451 + 98_120 + 10_944
    assert [s["norm"] for s in model.style_encoder.specs] == ["none"] * 3
    optimised = {id(v) for v in model.generator_variables}
    assert {id(v) for v in model.style_encoder.trainable_variables} <= optimised


def test_modulation_is_film_and_starts_as_the_identity():
    h = RNG.uniform(-1, 1, (2, 3, 3, 2)).astype("float32")
    style = RNG.uniform(-1, 1, (2, 4)).astype("float32")
    film = StyleModulation()
    np.testing.assert_array_equal(numpy_of(film(h, style)), h)
    kernel = RNG.uniform(-1, 1, (4, 4)).astype("float32")
    bias = RNG.uniform(-1, 1, (4,)).astype("float32")
    film.film.set_weights([kernel, bias])
    params = style @ kernel + bias
    gamma, beta = params[:, None, None, :2], params[:, None, None, 2:]
    np.testing.assert_allclose(numpy_of(film(h, style)), h * (1 + gamma) + beta, atol=1e-6)


def test_style_picks_the_look_of_a_translation():
    model = UNIT("tiny", overrides=STYLED, seed=0)
    ones, zeros = np.ones((2, 4), "float32"), np.zeros((2, 4), "float32")
    plain = numpy_of(model.translate_a2b(XA))
    # Untrained, the modulation is the identity: every style looks the same.
    np.testing.assert_array_equal(numpy_of(model.translate_a2b(XA, style=ones)), plain)
    for modulation in model.generator.style_modulations_b:
        modulation.film.set_weights([np.full_like(w, 0.5) for w in modulation.film.get_weights()])
    np.testing.assert_array_equal(numpy_of(model.translate_a2b(XA, style=zeros)),
                                  numpy_of(model.translate_a2b(XA)))
    assert np.abs(numpy_of(model.translate_a2b(XA, style=ones))
                  - numpy_of(model.translate_a2b(XA))).max() > 1e-3
    # G_a has no style input, and B -> A does not read one.
    with pytest.raises(ValueError, match="only branch B of a network built with style_dim "
                                         "takes a style"):
        model.decode(model.encode(XB, "b")["mu"], "a", style=ones)


def test_streams_read_the_encoded_style_and_the_prior():
    model = UNIT("tiny", overrides=STYLED, seed=0)
    for modulation in model.generator.style_modulations_b:
        modulation.film.set_weights([RNG.uniform(-1, 1, w.shape).astype("float32")
                                     for w in modulation.film.get_weights()])
    images, codes = model((XA, XB), training=False)
    s_b = codes["style"]["b"]
    np.testing.assert_array_equal(numpy_of(s_b), numpy_of(model.encode_style(XB)))
    np.testing.assert_array_equal(numpy_of(codes["style"]["prior"]), np.zeros((2, 4)))
    z_b, z_ba = codes["b"]["z"], codes["ba"]["z"]
    np.testing.assert_allclose(numpy_of(images["bb"]),
                               numpy_of(model.decode(z_b, "b", style=s_b)), atol=1e-6)
    np.testing.assert_allclose(numpy_of(images["bab"]),
                               numpy_of(model.decode(z_ba, "b", style=s_b)), atol=1e-6)
    np.testing.assert_allclose(numpy_of(images["ab"]), numpy_of(model.translate_a2b(XA)),
                               atol=1e-6)
    # In training the prior is a draw from N(0, I), a new one every call.
    first = numpy_of(model((XA, XB), training=True)[1]["style"]["prior"])
    second = numpy_of(model((XA, XB), training=True)[1]["style"]["prior"])
    assert first.shape == (2, 4) and np.abs(first - second).max() > 1e-3


def test_style_reconstruction_term_by_hand():
    model = UNIT("tiny", overrides={"style_dim": 4,
                                    "loss_weights": {"style_reconstruction": 2.0}}, seed=0)
    assert "style_recon" in model.loss_names()
    assert "style_recon" not in UNIT("tiny", overrides={"style_dim": 4}).loss_names()
    images, codes = model((XA, XB), training=False)
    g = model.generator_losses(XA, XB, images, codes, training=False)
    expected = np.abs(numpy_of(model.encode_style(images["ab"]))
                      - numpy_of(codes["style"]["prior"])).mean()
    assert float(g["style_recon"]) == pytest.approx(expected, rel=1e-5)
    assert float(model.weighted_total({"style_recon": g["style_recon"]})) == pytest.approx(
        2.0 * expected, rel=1e-5)


def test_a_train_step_moves_the_style_encoder_and_the_modulation():
    model = UNIT("tiny", overrides=STYLED, seed=0)
    model.compile()
    parts = model.style_encoder.trainable_variables + [
        v for m in model.generator.style_modulations_b for v in m.trainable_variables]
    before = [numpy_of(v) for v in parts]
    logs = model.train_step((XA, XB))
    assert np.isfinite(float(logs["style_recon"]))
    assert all(np.abs(b - numpy_of(v)).max() > 0 for b, v in zip(before, parts))


def toy_batches(n, batch):
    data = mnist.toy_digits("train")
    idx = np.random.RandomState(0).permutation(len(data["a"]))[:n]
    return data["a"][idx], data["b"][idx]


def test_style_path_learns_to_show_the_drawn_style():
    # The style reconstruction term alone, on real digits: G_b must draw x_ab
    # so that S_b reads back the style it was drawn with.
    xa, xb = toy_batches(16, 16)
    model = UNIT("tiny", overrides=STYLED, seed=0)
    optimizer, variables = keras.optimizers.Adam(1e-2), model.generator_variables

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            images, codes = model((xa, xb), training=True)
            loss = model.generator_losses(xa, xb, images, codes)["style_recon"]
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    readings = [float(step()) for _ in range(60)]
    # A draw from N(0, I) read as zero is off by about 0.8 per element.
    assert np.mean(readings[-5:]) < 0.5 * np.mean(readings[:5]), readings


def test_fit_with_a_style_code_on_real_digits_lowers_reconstruction():
    xa, xb = toy_batches(256, 16)
    ds = tf.data.Dataset.from_tensor_slices((xa, xb)).batch(16)
    model = UNIT("tiny", overrides=STYLED, seed=0)
    model.compile(g_optimizer=keras.optimizers.Adam(2e-3, 0.5, 0.999))
    history = model.fit(ds, epochs=3, verbose=0).history
    assert all(np.isfinite(v).all() for v in history.values())
    assert history["recon"][-1] < 0.7 * history["recon"][0], history["recon"]


def test_keras_roundtrip_keeps_the_style_parts(tmp_path):
    model = UNIT("tiny", overrides=STYLED, seed=1)
    model.compile()
    model.train_step((XA, XB))          # trained weights, not the zero-start ones
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    style = numpy_of(model.encode_style(XB)).astype("float32")
    np.testing.assert_array_equal(numpy_of(loaded.encode_style(XB)), style)
    np.testing.assert_array_equal(numpy_of(loaded.translate_a2b(XA, style=style)),
                                  numpy_of(model.translate_a2b(XA, style=style)))


def test_sample_grid_adds_the_row_in_each_columns_style():
    plain, styled = UNIT("tiny", seed=0), UNIT("tiny", overrides=STYLED, seed=0)
    rows = sample_grid(plain, XA, XB).shape[0], sample_grid(styled, XA, XB).shape[0]
    assert rows[1] - rows[0] == 16 + 2                # one more 16-pixel row


def test_flops_count_the_style_encoder():
    model = UNIT("lenet_spatial", overrides={"style_dim": 8,
                                             "loss_weights": {"style_reconstruction": 1.0}})
    # k7 3->32 at 32^2, k3 32->64 at 16^2, k3 64->128 at 8^2, dense 128->8.
    by_hand = 2 * (32 * 32 * 49 * 3 * 32 + 16 * 16 * 9 * 32 * 64 + 8 * 8 * 9 * 64 * 128
                   + 128 * 8)
    assert flops.style_flops(model, (1, 32, 32, 3)) == by_hand
    plain = UNIT("lenet_spatial")
    film = 2 * 8 * 2 * (4 * 128 + 64 + 32)
    assert (flops.train_step_flops(model, 32, 1).eg_forward
            - flops.train_step_flops(plain, 32, 1).eg_forward) == 2 * by_hand + 2 * film


def test_bad_style_configuration_is_named():
    with pytest.raises(ValueError, match="style reconstruction term reads domain B's style"):
        UNIT("tiny", overrides={"loss_weights": {"style_reconstruction": 1.0}})
    with pytest.raises(ValueError, match="style_dim must be a non-negative integer"):
        UNIT("tiny", overrides={"style_dim": -1})
    with pytest.raises(ValueError, match=r"no style code \(style_dim=0\)"):
        UNIT("tiny").encode_style(XB)
