import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import unit_tf
from unit_tf.training import LinearDecay, NonFiniteLossError, Trainer, ensure_writable

RNG = np.random.RandomState(0)
XA = RNG.uniform(-1, 1, (32, 16, 16, 3)).astype("float32")
XB = RNG.uniform(-1, 1, (32, 16, 16, 3)).astype("float32")


def dataset(seed=0):
    a = tf.data.Dataset.from_tensor_slices(XA).shuffle(32, seed=seed).repeat()
    b = tf.data.Dataset.from_tensor_slices(XB).shuffle(32, seed=seed + 1).repeat()
    return tf.data.Dataset.zip((a, b)).batch(4, drop_remainder=True)


def build(lr=1e-3):
    def build_model():
        model = unit_tf.UNIT("tiny", seed=0)
        model.compile(g_optimizer=keras.optimizers.Adam(lr, 0.5, 0.999),
                      d_optimizer=keras.optimizers.Adam(lr, 0.5, 0.999))
        return model
    return build_model


def make_trainer(out, **kwargs):
    tf.keras.utils.set_random_seed(0)
    args = dict(log_every=2, sample_every=4, checkpoint_every=3)
    args.update(kwargs)
    return Trainer(build(args.pop("lr", 1e-3)), dataset(), str(out),
                   sample_batch=(XA[:2], XB[:2]), **args)


def test_resume_continues_exactly(tmp_path):
    straight = make_trainer(tmp_path / "straight")
    straight.train(7)
    first = make_trainer(tmp_path / "resumed")
    first.train(3)                          # checkpoint at step 3
    first.train(5)                          # progress past it is lost on "crash"
    second = make_trainer(tmp_path / "resumed")
    assert second.restore() == 3
    second.train(7)
    for a, b in zip(straight.model.get_weights(), second.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(straight.model.g_optimizer.variables, second.model.g_optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    samples = sorted(os.listdir(tmp_path / "straight" / "samples"))
    assert samples == ["step_00000004.png"]
    ckpts = sorted(os.listdir(tmp_path / "straight" / "checkpoints"))
    assert ckpts == ["ckpt-00000003", "ckpt-00000006", "latest"]
    assert os.listdir(tmp_path / "straight" / "tensorboard")


def test_nan_guard_stops_and_keeps_last_good_checkpoint(tmp_path):
    trainer = make_trainer(tmp_path, checkpoint_every=2)
    trainer.train(2)
    for v in trainer.model.generator_variables[:1]:
        v.assign(tf.fill(v.shape, np.nan))
    with pytest.raises(NonFiniteLossError, match="Last good checkpoint: .*ckpt-00000002"):
        trainer.train(6)
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["ckpt-00000002", "latest"]


def test_unwritable_out_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="not writable.*choose another --out"):
        ensure_writable(str(blocker / "sub"))


def test_linear_decay_holds_then_falls_to_zero():
    schedule = LinearDecay(2e-4, 90, 100)
    rates = [float(schedule(s)) for s in (0, 90, 95, 99, 100, 120)]
    np.testing.assert_allclose(rates, [2e-4, 2e-4, 1e-4, 2e-5, 0.0, 0.0], rtol=1e-6)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert isinstance(again, LinearDecay) and again.get_config() == schedule.get_config()
    with pytest.raises(ValueError, match="start < end"):
        LinearDecay(1e-4, 100, 100)


def test_schedule_before_its_start_changes_nothing(tmp_path):
    constant = make_trainer(tmp_path / "constant")
    constant.train(4)
    held = make_trainer(tmp_path / "held", learning_rate=LinearDecay(1e-3, 4, 8))
    held.train(4)
    for a, b in zip(constant.model.get_weights(), held.model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_constant_checkpoint_branches_into_a_decay(tmp_path):
    constant = make_trainer(tmp_path)
    constant.train(3)                       # checkpoint at step 3, constant rate
    branch = make_trainer(tmp_path, learning_rate=LinearDecay(1e-3, 3, 5))
    assert branch.restore() == 3
    # The whole optimizer state came back (Adam moments and the step count).
    for a, b in zip(constant.model.g_optimizer.variables, branch.model.g_optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    branch.train(4)                         # the step-3 update runs at 1e-3 * (5-3)/2
    assert float(branch.model.g_optimizer.learning_rate) == pytest.approx(1e-3)
    assert float(branch.model.d_optimizer.learning_rate) == pytest.approx(1e-3)
    branch.train(5)                         # the step-4 update at half the rate
    assert float(branch.model.g_optimizer.learning_rate) == pytest.approx(5e-4)
    assert int(branch.model.g_optimizer.iterations) == 5
