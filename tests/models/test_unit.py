import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from unit_tf import UNIT
from unit_tf.data import mnist
from unit_tf.models import losses

RNG = np.random.RandomState(0)
XA = RNG.uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
XB = RNG.uniform(-1, 1, (2, 16, 16, 3)).astype("float32")

# (total, encoders, generators, discriminators): pinned so an architecture
# change is always a deliberate one. NIPS Table 3 E: 2 x (9,472 + 73,728 +
# 294,912 + 3 x 1,179,648) + 1,179,648 shared = 9,013,760.
PARAM_COUNTS = {
    "nips_translation": (30552200, 9013760, 8995206, 12543234),
    "nips_translation_lite": (7645256, 2258176, 2248902, 3138178),
    "digits": (3134535, 746688, 1771718, 616129),
    "lenet": (3177375, 746688, 1771586, 659101),
    # nips_translation_lite's E and G (+ 2 x 7 x 7 x 2 x 32 for the coordinate
    # channels of the spatial context) with lenet's D at 3 input channels.
    "lenet_spatial": (5174451, 2264448, 2248902, 661101),
    "svhn": (6861969, 749888, 1771718, 4340363),
    "tiny": (35576, 16576, 16182, 2818),
    # Table 3's D; E and G add the authors' front-end biases (2 x (128 + 256) and
    # 2 x (128 + 64)) to Table 3's counts.
    "unit_v02": (30553352, 9014528, 8995590, 12543234),
}


def values(variables):
    return [ops.convert_to_numpy(v).copy() for v in variables]


def changed(before, variables):
    return [not np.allclose(b, ops.convert_to_numpy(v)) for b, v in zip(before, variables)]


@pytest.mark.parametrize("name", sorted(PARAM_COUNTS))
def test_parameter_counts_pinned(name):
    model = UNIT(name)
    d = sum(net.count_params() for net in model.discriminators)
    heads = {id(h): h for h in (model.class_head_a, model.class_head_b) if h is not None}
    d += sum(h.count_params() for h in heads.values())
    assert (model.count_params(), model.encoder.count_params(),
            model.generator.count_params(), d) == PARAM_COUNTS[name]


def test_shared_layers_are_the_same_variables():
    model = UNIT("tiny")
    enc_a, enc_b = model.encoder.branch("a"), model.encoder.branch("b")
    assert enc_a[-2] is enc_b[-2] and enc_a[-2].name.startswith("shared_")
    shared_ids = {id(v) for v in enc_a[-2].trainable_variables}
    assert shared_ids == {id(v) for v in enc_b[-2].trainable_variables}
    # Collected once: no variable appears twice in the optimised lists.
    ids = [id(v) for v in model.generator_variables + model.discriminator_variables]
    assert len(ids) == len(set(ids)) == len(model.trainable_variables)


def test_domain_a_loss_moves_shared_and_a_only_weights():
    model = UNIT("tiny")
    enc, gen = model.encoder, model.generator
    groups = {
        "shared": [v for l in enc.shared + gen.shared for v in l.trainable_variables],
        "a": [v for l in enc.private_a + gen.private_a for v in l.trainable_variables],
        "b": [v for l in enc.private_b + gen.private_b for v in l.trainable_variables],
    }
    before = {k: values(v) for k, v in groups.items()}
    with tf.GradientTape() as tape:
        recon = model.decode(model.encode(XA, "a", training=True)["z"], "a", training=True)
        loss = losses.l1(recon, XA)
    variables = model.generator_variables
    keras.optimizers.SGD(0.1).apply_gradients(zip(tape.gradient(loss, variables), variables))
    assert all(changed(before["shared"], groups["shared"]))
    assert all(changed(before["a"], groups["a"]))
    assert not any(changed(before["b"], groups["b"]))


def test_discriminator_step_then_generator_step_touch_only_their_weights():
    m1, m2 = UNIT("tiny", seed=3), UNIT("tiny", seed=3)
    m2.set_weights(m1.get_weights())
    m1.compile()
    m2.compile()
    g0, d0 = values(m1.generator_variables), values(m1.discriminator_variables)
    m1.train_step((XA, XB))
    # m2 runs the discriminator step alone on the same forward pass.
    images, _ = m2((XA, XB), training=True)
    m2.discriminator_step(XA, XB, images)
    assert not any(changed(g0, m2.generator_variables))      # D step: E/G fixed
    assert all(changed(d0, m2.discriminator_variables))
    for a, b in zip(m1.discriminator_variables, m2.discriminator_variables):
        # E/G step: D fixed, so D is exactly where the D step left it.
        np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b), atol=1e-6)
    assert all(changed(g0, m1.generator_variables))


def test_fit_on_real_digits_lowers_reconstruction():
    data = mnist.toy_digits("train")
    idx = np.random.RandomState(0).permutation(len(data["a"]))[:256]
    ds = tf.data.Dataset.from_tensor_slices((data["a"][idx], data["b"][idx])).batch(16)
    model = UNIT("tiny", seed=0)
    model.compile(g_optimizer=keras.optimizers.Adam(2e-3, 0.5, 0.999))
    before = model.evaluate(ds, verbose=0, return_dict=True)["recon"]
    history = model.fit(ds, epochs=4, verbose=0)
    after = model.evaluate(ds, verbose=0, return_dict=True)["recon"]
    assert np.isfinite(history.history["g_loss"]).all()
    assert after < 0.7 * before, (before, after)


def test_keras_roundtrip_keeps_sharing_weights_and_optimizers(tmp_path):
    model = UNIT("tiny", seed=1, domain_names=("x", "y"))
    model.compile()
    model.fit(tf.data.Dataset.from_tensor_slices((XA, XB)).batch(1), epochs=1, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(ops.convert_to_numpy(loaded.translate_a2b(XA)),
                                  ops.convert_to_numpy(model.translate_a2b(XA)))
    np.testing.assert_array_equal(ops.convert_to_numpy(loaded.translate_b2a(XB)),
                                  ops.convert_to_numpy(model.translate_b2a(XB)))
    assert loaded.encoder.branch("a")[-2] is loaded.encoder.branch("b")[-2]
    assert loaded.domain_names == ("x", "y")
    assert int(loaded.g_optimizer.iterations) == int(loaded.d_optimizer.iterations) == 2
    for a, b in zip(loaded.g_optimizer.variables, model.g_optimizer.variables):
        np.testing.assert_array_equal(ops.convert_to_numpy(a), ops.convert_to_numpy(b))
    for a, b in zip(loaded.d_optimizer.variables, model.d_optimizer.variables):
        np.testing.assert_array_equal(ops.convert_to_numpy(a), ops.convert_to_numpy(b))


def test_save_weights_load_weights(tmp_path):
    model, other = UNIT("tiny", seed=1), UNIT("tiny", seed=2)
    path = str(tmp_path / "w.weights.h5")
    model.save_weights(path)
    other.load_weights(path)
    np.testing.assert_array_equal(ops.convert_to_numpy(other.translate_a2b(XA)),
                                  ops.convert_to_numpy(model.translate_a2b(XA)))


@pytest.mark.parametrize("preset, x, domain, message", [
    ("tiny", np.zeros((1, 16, 16, 1), "float32"), "a", "takes 3-channel images, got 1"),
    ("tiny", np.zeros((1, 15, 16, 3), "float32"), "a", "divisible by 2; got height 15"),
    ("digits", np.zeros((1, 28, 28, 3), "float32"), "b", "takes only 32x32 images"),
    ("tiny", np.zeros((16, 16, 3), "float32"), "a", "expects a batch of images"),
])
def test_bad_inputs_are_named(preset, x, domain, message):
    model = UNIT(preset)
    with pytest.raises(ValueError, match=message):
        model.encode(x, domain)


def test_unknown_preset_and_bad_override():
    with pytest.raises(ValueError, match="valid presets"):
        UNIT("cyclegan")
    with pytest.raises(ValueError, match="shared_encoder must be a non-negative"):
        UNIT("tiny", overrides={"shared_encoder": -2})


def test_ablation_switches():
    unshared = UNIT("tiny", share_weights=False)
    assert not any(v.path.split("/")[-2].startswith("shared_")
                   for v in unshared.trainable_variables)
    assert unshared.encoder.count_params() > UNIT("tiny").encoder.count_params()
    vae = UNIT("tiny", discriminators=False)
    assert vae.discriminator_variables == []
    assert "g_gan" not in vae.loss_names() and "d_loss" not in vae.loss_names()
    no_cycle = UNIT("tiny", cycle_consistency=False)
    assert "cycle" not in no_cycle.loss_names()
    for model in (unshared, vae, no_cycle):
        model.compile()
        logs = model.train_step((XA, XB))
        assert all(np.isfinite(float(v)) for v in logs.values())
    images, _ = no_cycle((XA, XB))
    assert "aba" not in images


def test_adaptation_preset_trains_class_head():
    model = UNIT("lenet", seed=0)
    model.compile()
    xa = RNG.uniform(-1, 1, (4, 32, 32, 1)).astype("float32")
    labels = np.array([0, 1, 2, 3])
    logs = model.train_step((xa, xa, labels))
    assert np.isfinite(float(logs["d_class"])) and float(logs["d_class"]) > 0
    assert np.isfinite(float(logs["d_feature_matching"]))
    assert model.classify(xa, "b").shape == (4, 10)
    assert model.class_head_a is model.class_head_b
    with pytest.raises(ValueError, match="has no class head"):
        UNIT("tiny").classify(XA, "a")


def test_translated_classification_term():
    plain = UNIT("lenet", seed=0)
    assert "d_class_ab" not in plain.loss_names() and "g_class_ab" not in plain.loss_names()
    model = UNIT("lenet", seed=0, overrides={"loss_weights": {"translated_classification": 1.0}})
    assert {"d_class_ab", "g_class_ab"} <= set(model.loss_names())
    xa = RNG.uniform(-1, 1, (4, 32, 32, 1)).astype("float32")
    labels = np.array([0, 1, 2, 3])
    images, codes = model((xa, xa))
    g = model.generator_losses(xa, xa, images, codes, labels, training=False)
    # The E/G term is the class head's cross-entropy on D_b's view of x_ab.
    expected = losses.classification(
        labels, model.class_logits(model.discriminate(images["ab"], "b")[0][1], "b"))
    assert float(g["g_class_ab"]) == pytest.approx(float(expected), rel=1e-5)
    d = model.discriminator_losses(xa, xa, images, labels, training=False)
    assert float(d["d_class_ab"]) == pytest.approx(float(expected), rel=1e-5)
    model.compile()
    logs = model.train_step((xa, xa, labels))
    assert float(logs["g_class_ab"]) > 0 and float(logs["d_class_ab"]) > 0


def test_cycle_classification_term():
    weights = {"loss_weights": {"cycle_classification": 3.0}}
    with pytest.raises(ValueError, match="cycle_consistency=True"):
        UNIT("lenet", seed=0, overrides=weights)
    model = UNIT("lenet", seed=0, overrides=weights, cycle_consistency=True)
    assert "g_class_aba" in model.loss_names() and "d_class_ab" not in model.loss_names()
    xa = RNG.uniform(-1, 1, (4, 32, 32, 1)).astype("float32")
    labels = np.array([0, 1, 2, 3])
    images, codes = model((xa, xa))
    g = model.generator_losses(xa, xa, images, codes, labels, training=False)
    # The E/G term is the class head's cross-entropy on D_a's view of x_aba.
    logits = model.class_logits(model.discriminate(images["aba"], "a")[0][1], "a").numpy()
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -log_p[np.arange(4), labels].mean()
    assert float(g["g_class_aba"]) == pytest.approx(expected, rel=1e-5)
    assert "g_class_aba" not in model.discriminator_losses(xa, xa, images, labels, False)
    # Its own lambda weights it in the E/G total.
    assert float(model.weighted_total({"g_class_aba": 2.0})) == pytest.approx(6.0)
    model.compile()
    assert float(model.train_step((xa, xa, labels))["g_class_aba"]) > 0


def test_target_pseudo_label_term():
    assert "d_class_b_pseudo" not in UNIT("lenet", seed=0).loss_names()
    model = UNIT("lenet", seed=0, overrides={"loss_weights": {"target_pseudo_label": 2.0},
                                             "pseudo_label_threshold": 0.0})
    assert "d_class_b_pseudo" in model.loss_names()
    xa = RNG.uniform(-1, 1, (4, 32, 32, 1)).astype("float32")
    xb = RNG.uniform(-1, 1, (4, 32, 32, 1)).astype("float32")
    labels = np.array([0, 1, 2, 3])
    images, codes = model((xa, xb))
    d = model.discriminator_losses(xa, xb, images, labels, training=False)
    # Threshold 0: every x_b takes the argmax of D_a's classes of its x_ba.
    teacher = model.classify(images["ba"], "a").numpy()
    logits = model.classify(xb, "b").numpy()
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -log_p[np.arange(4), teacher.argmax(axis=1)].mean()
    assert float(d["d_class_b_pseudo"]) == pytest.approx(expected, rel=1e-5)
    assert "d_class_b_pseudo" not in model.generator_losses(xa, xb, images, codes, labels,
                                                           training=False)
    assert float(model.weighted_total({"d_class_b_pseudo": 1.5})) == pytest.approx(3.0)
    model.compile()
    assert float(model.train_step((xa, xb, labels))["d_class_b_pseudo"]) > 0
    with pytest.raises(ValueError, match="pseudo_label_threshold"):
        UNIT("lenet", overrides={"pseudo_label_threshold": 1.5})


def test_target_class_balance_term():
    assert "g_class_ba_balance" not in UNIT("lenet", seed=0).loss_names()
    model = UNIT("lenet", seed=0, overrides={"loss_weights": {"target_class_balance": 4.0}})
    assert "g_class_ba_balance" in model.loss_names()
    xa = RNG.uniform(-1, 1, (4, 32, 32, 1)).astype("float32")
    xb = RNG.uniform(-1, 1, (4, 32, 32, 1)).astype("float32")
    labels = np.array([0, 1, 2, 3])
    images, codes = model((xa, xb))
    g = model.generator_losses(xa, xb, images, codes, labels, training=False)
    # D_a's classes of the target images' translations x_ba, averaged over the batch.
    logits = model.classify(images["ba"], "a").numpy()
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    mean = probs.mean(axis=0)
    expected = np.sum(mean * np.log(10 * mean))
    assert float(g["g_class_ba_balance"]) == pytest.approx(expected, rel=1e-4, abs=1e-6)
    assert "g_class_ba_balance" not in model.discriminator_losses(xa, xb, images, labels,
                                                                 training=False)
    assert float(model.weighted_total({"g_class_ba_balance": 0.5})) == pytest.approx(2.0)
    # Its gradient reaches the encoders and generators (the path of x_ba).
    model.compile()
    with tf.GradientTape() as tape:
        images, codes = model((xa, xb), training=True)
        loss = model.generator_losses(xa, xb, images, codes, labels)["g_class_ba_balance"]
    grads = tape.gradient(loss, model.generator_variables)
    assert any(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)
    assert float(model.train_step((xa, xb, labels))["g_class_ba_balance"]) >= 0
    # A preset without a class head refuses class terms rather than ignoring them.
    with pytest.raises(ValueError, match="no class head.*target_class_balance"):
        UNIT("tiny", overrides={"loss_weights": {"target_class_balance": 1.0}})


def test_multiscale_discriminator():
    model = UNIT("tiny", overrides={"discriminator_scales": 3, "gan_loss": "lsgan"})
    outputs = model.discriminate(XA, "a")
    assert [o[0].shape[1] for o in outputs] == [4, 2, 1]
    model.compile()
    assert np.isfinite(float(model.train_step((XA, XB))["d_gan"]))


def test_mixed_bfloat16_losses_in_float32():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    model = UNIT("tiny")
    model.compile()
    logs = model.train_step((XA, XB))
    assert model.encoder.branch("a")[0].compute_dtype == "bfloat16"
    assert all(v.dtype == "float32" and np.isfinite(float(v)) for v in logs.values())
    assert model.translate_a2b(XA).dtype == "float32"
