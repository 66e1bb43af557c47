import os
import signal

import keras
import numpy as np
import pytest
import tensorflow as tf

import unit_tf
from unit_tf.training import (LinearDecay, NonFiniteLossError, StopOnSignals, Trainer,
                              ensure_writable, format_eta)

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


@pytest.mark.slow
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


def test_first_call_is_one_step_and_chunks_share_one_graph(tmp_path):
    trainer = make_trainer(tmp_path, log_every=5, sample_every=0, checkpoint_every=0)
    lines = []
    trainer.train(12, log=lines.append)
    # A line after each of the first two calls (steps 1 and 2: the speed is
    # known from the second), then every log_every steps and at the end.
    assert [line.split()[1] for line in lines] == ["1/12", "2/12", "7/12", "12/12"]
    assert "builds the graph" in lines[0] and " it/s ETA " in lines[1]
    assert trainer._run.experimental_get_tracing_count() == 1


def test_chunks_are_capped_by_wall_time(tmp_path, monkeypatch):
    trainer = make_trainer(tmp_path, log_every=1000, sample_every=0, checkpoint_every=0)
    trainer.max_chunk_seconds = 1e-6           # far below one step: one step per call
    calls = []
    run = trainer._run
    def counted(iterator, steps):
        calls.append(int(steps))
        return run(iterator, steps)
    monkeypatch.setattr(trainer, "_run", counted)
    trainer.train(4, log=None)
    assert calls == [1, 1, 1, 1]


def test_keep_every_holds_multiples_outside_the_rotation(tmp_path):
    trainer = make_trainer(tmp_path, log_every=1, sample_every=0, checkpoint_every=1,
                           keep_every=3)
    trainer.train(8, log=None)
    assert sorted(os.listdir(tmp_path / "checkpoints")) == [
        "ckpt-00000003", "ckpt-00000006", "ckpt-00000007", "ckpt-00000008", "latest"]
    resumed = make_trainer(tmp_path, log_every=1, sample_every=0, checkpoint_every=1)
    assert resumed.restore() == 8


def test_stop_request_ends_at_a_step_boundary_and_checkpoints(tmp_path):
    class StopAfter:
        def __init__(self, trainer, step):
            self.trainer, self.step = trainer, step

        @property
        def requested(self):
            return self.trainer.step >= self.step or None

    trainer = make_trainer(tmp_path, log_every=1, sample_every=0, checkpoint_every=0)
    trainer.train(10, log=None, stop=StopAfter(trainer, 3))
    assert trainer.step == 3
    path = trainer.checkpoint()
    assert path.endswith("ckpt-00000003") and trainer.checkpoint() == path  # saved once
    resumed = make_trainer(tmp_path, log_every=1, sample_every=0, checkpoint_every=0)
    assert resumed.restore() == 3


def test_checkpoints_by_wall_time(tmp_path):
    trainer = make_trainer(tmp_path, log_every=1, sample_every=0, checkpoint_every=0,
                           checkpoint_seconds=0.0)  # every call is past the deadline
    lines = []
    trainer.train(2, log=lines.append)
    assert sorted(os.listdir(tmp_path / "checkpoints")) == [
        "ckpt-00000001", "ckpt-00000002", "latest"]
    assert [line for line in lines if line.startswith("checkpoint ")] == [
        f"checkpoint {tmp_path / 'checkpoints' / 'ckpt-00000001'}",
        f"checkpoint {tmp_path / 'checkpoints' / 'ckpt-00000002'}"]


def test_stop_on_signals_sets_the_request_then_interrupts():
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with StopOnSignals() as stop:
        assert stop.requested is None
        signal.raise_signal(signal.SIGTERM)
        assert stop.requested == signal.SIGTERM
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_output_folder_appears_only_with_the_model(tmp_path):
    def broken():
        raise ValueError("no model")
    with pytest.raises(ValueError, match="no model"):
        Trainer(broken, dataset(), str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()


def test_format_eta():
    assert [format_eta(s) for s in (7.9, 247, 3900, float("inf"))] == [
        "0m07s", "4m07s", "1h05m", "?"]
