"""The training loop behind tools/train.py.

A custom loop rather than `Model.fit`, for three reasons: `fit` does not run
under MultiWorkerMirroredStrategy in current Keras (keras issue 20585);
resuming must restore the data iterator's position, which `fit` does not
save; and several steps run inside one `tf.function` call, so there is no
per-step host round trip (losses and the NaN/Inf check are reduced in the
graph and read once per call).

A checkpoint is a folder `checkpoints/ckpt-STEP/` holding `model.keras`
(weights, both optimizers, the latent noise state), the tf.data iterator
state and `state.json` (the step). It is written to a temporary folder and
renamed into place; `checkpoints/latest` names the newest complete one.
Checkpoints are written every `checkpoint_every` steps, every
`checkpoint_seconds` of wall time, and by the caller when `StopOnSignals`
reports SIGINT or SIGTERM (training stops at the next step boundary).

A learning-rate schedule (`LinearDecay`) is applied by assigning each
optimizer's learning-rate variable before every step, not by handing the
schedule to Adam: an Adam built on a schedule has one variable fewer, and
Keras skips (with only a warning) the whole optimizer state of a checkpoint
whose variable count differs. Assigning keeps every checkpoint loadable with
or without a schedule, so a constant-rate run can be branched into a decay.
"""

import json
import math
import os
import shutil
import signal
import sys
import threading
import time

import keras
import numpy as np
import tensorflow as tf
from unit_tf.fileio import atomic_write_png, check_writable_folder
from unit_tf.visualize import sample_grid


@keras.saving.register_keras_serializable(package="unit_tf")
class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """`initial` until step `start`, then linearly down to 0 at step `end`.

    The decay of the pix2pix and CycleGAN recipes (there over the second half
    of training). The paper trains at a constant rate; see BUILD_NOTES.
    """

    def __init__(self, initial, start, end):
        if not 0 <= start < end:
            raise ValueError(f"LinearDecay needs 0 <= start < end; got start={start}, "
                             f"end={end}. Start the decay before the last step.")
        self.initial, self.start, self.end = float(initial), int(start), int(end)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        left = tf.clip_by_value((self.end - step) / (self.end - self.start), 0.0, 1.0)
        return self.initial * left

    def get_config(self):
        return {"initial": self.initial, "start": self.start, "end": self.end}


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or Inf; training stopped and kept the last good checkpoint."""


def make_strategy(name="default", cpu_devices=0):
    """A tf.distribute strategy by name: "default", "mirrored" or "multi_worker".

    `cpu_devices` > 1 splits the CPU into that many logical devices first (to
    run "mirrored" on a CPU-only host); it must run before TF is initialised.
    Multi-worker reads the cluster from the TF_CONFIG environment variable.
    """
    if cpu_devices > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * cpu_devices)
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU")] or \
                  [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("--strategy multi_worker needs the TF_CONFIG environment "
                             "variable describing the cluster and this worker's task.")
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"Unknown strategy {name!r}; expected default, mirrored or multi_worker.")


def is_chief(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    return resolver.task_type == "chief" or (
        resolver.task_type == "worker" and resolver.task_id == 0)


def ensure_writable(path):
    """Creates `path` or raises a clear error when it cannot be written."""
    check_writable_folder(path)
    os.makedirs(path, exist_ok=True)


class StopOnSignals:
    """A context in which SIGINT and SIGTERM ask the training loop to stop.

    The first signal sets `requested` to its number; `Trainer.train` checks
    it at every step boundary (one `tf.function` call is at most
    `Trainer.max_chunk_seconds` of work), so training stops within seconds
    and the caller can save a checkpoint. A second signal raises
    KeyboardInterrupt at once. Outside the main thread (where Python cannot
    catch signals) the context does nothing. The previous handlers are put
    back on exit.

    Examples:
        >>> with StopOnSignals() as stop:
        ...     trainer.train(10000, stop=stop)
        >>> if stop.requested:
        ...     trainer.checkpoint()
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.requested = None
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}
        return False

    def _handle(self, signum, frame):
        del frame
        if self.requested is not None:
            raise KeyboardInterrupt
        self.requested = signum
        # os.write, not print: the handler may run while the main thread is
        # inside a print, and buffered streams refuse reentrant writes.
        message = (f"\n{signal.Signals(signum).name}: stopping at the next step boundary "
                   "to save a checkpoint (send it again to quit without saving)\n")
        try:
            os.write(sys.stderr.fileno(), message.encode())
        except (OSError, ValueError, AttributeError):
            pass


class Trainer:
    """Trains a compiled UNIT with checkpoints, TensorBoard, sample grids and a NaN guard.

    Steps run several at a time inside one `tf.function` call (a "chunk"),
    with no host round trip between them. The first call runs one step (it
    also builds the graph); after it each chunk is as many steps as fit in
    `max_chunk_seconds` at the speed measured so far, at most `log_every`
    and never past a sample or checkpoint step. The step count is a tensor
    argument, so chunks of any length share one traced graph. Stop requests
    (`StopOnSignals`) and the NaN/Inf guard are checked after every chunk.

    Args:
        build_model: callable returning a compiled `UNIT`; called inside the
            strategy's scope.
        dataset: an infinite `tf.data.Dataset` of (x_a, x_b[, labels_a])
            global batches, deterministic for a given seed.
        out_dir: where checkpoints, samples and TensorBoard logs go; created
            once the model is built.
        strategy: a `tf.distribute.Strategy` (default: no distribution).
        sample_batch: (x_a, x_b) numpy arrays drawn in the sample grids.
        log_every: most steps per `tf.function` call, and steps between
            progress lines (a line is also printed after each of the first
            two calls and at least once a minute).
        sample_every, checkpoint_every: in steps (0: never).
        keep: how many of the newest checkpoints to keep (the rotation).
        keep_every: also keep, outside that rotation, every checkpoint whose
            step is a multiple of this (0: none), so that a long run can be
            scored along the way from `checkpoints/ckpt-STEP/model.keras`.
        learning_rate: optional schedule (step -> rate, e.g. `LinearDecay`)
            for both optimizers, applied before every step.
        checkpoint_seconds: also checkpoint when this much wall time has
            passed since the last checkpoint (None: by steps only).
        max_chunk_seconds: the wall time one call may take, which bounds how
            long a stop request waits (None: chunks of `log_every` steps).
            Under MultiWorkerMirroredStrategy both time-based settings are
            off: every worker must make the same calls.
    """

    def __init__(self, build_model, dataset, out_dir, strategy=None, sample_batch=None,
                 log_every=50, sample_every=500, checkpoint_every=500, keep=2,
                 keep_every=0, learning_rate=None, checkpoint_seconds=None, max_chunk_seconds=2.0):
        self.strategy = strategy or tf.distribute.get_strategy()
        self.chief = is_chief(self.strategy)
        # Non-chief workers write to a scratch folder they remove at the end.
        self.out_dir = out_dir if self.chief else os.path.join(
            out_dir, f".worker_{self.strategy.cluster_resolver.task_id}")
        check_writable_folder(self.out_dir)
        self.ckpt_root = os.path.join(self.out_dir, "checkpoints")
        self.sample_batch = sample_batch
        self.log_every = max(1, log_every)
        self.sample_every = sample_every
        self.checkpoint_every = checkpoint_every
        self.keep = keep
        self.keep_every = keep_every
        self.learning_rate = learning_rate
        multi_worker = isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy)
        self.checkpoint_seconds = None if multi_worker else checkpoint_seconds
        self.max_chunk_seconds = None if multi_worker else max_chunk_seconds
        with self.strategy.scope():
            self.model = build_model()
            self.model.g_optimizer.build(self.model.generator_variables)
            if self.model.discriminator_variables:
                self.model.d_optimizer.build(self.model.discriminator_variables)
        # Every replica reads the global batch from one plain iterator and takes
        # its own slice: unlike a distributed iterator, this one can be
        # checkpointed, so the data order survives a resume at any replica count.
        replicas = self.strategy.num_replicas_in_sync
        global_batch = dataset.element_spec[0].shape[0]
        if replicas > 1 and (global_batch is None or global_batch % replicas):
            raise ValueError(f"The global batch ({global_batch}) must be a fixed multiple "
                             f"of the {replicas} replicas; change --batch_size.")
        # Without labels there is no class loss to log.
        self.names = [n for n in self.model.loss_names()
                      if n != "d_class" or len(dataset.element_spec) == 3]
        self.iterator = iter(dataset)
        self.step = 0
        self.elapsed = 0.0  # training wall time over all runs, seconds
        self._last_checkpoint_time = time.time()
        # The output folder appears only now, with the model built.
        ensure_writable(self.out_dir)
        self.writer = tf.summary.create_file_writer(os.path.join(self.out_dir, "tensorboard"))
        self._run = self._make_run()

    # ---- checkpoints ----------------------------------------------------------
    def latest_checkpoint(self):
        pointer = os.path.join(self.ckpt_root, "latest")
        if not os.path.exists(pointer):
            return None
        with open(pointer) as f:
            path = os.path.join(self.ckpt_root, f.read().strip())
        return path if os.path.isdir(path) else None

    def restore(self):
        """Restores the newest checkpoint if there is one; returns its step (or 0)."""
        path = self.latest_checkpoint()
        if path is None:
            return 0
        self.model.load_weights(os.path.join(path, "model.keras"))
        tf.train.Checkpoint(iterator=self.iterator).read(
            os.path.join(path, "iterator")).assert_consumed()
        with open(os.path.join(path, "state.json")) as f:
            state = json.load(f)
        self.step, self.elapsed = state["step"], state.get("wall_time_s", 0.0)
        return self.step

    def save_checkpoint(self, log=None):
        """Writes `checkpoints/ckpt-STEP/` atomically and points `latest` at it."""
        name = f"ckpt-{self.step:08d}"
        final = os.path.join(self.ckpt_root, name)
        tmp = final + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        try:
            self.model.save(os.path.join(tmp, "model.keras"))
            tf.train.Checkpoint(iterator=self.iterator).write(os.path.join(tmp, "iterator"))
            with open(os.path.join(tmp, "state.json"), "w") as f:
                json.dump({"step": self.step, "wall_time_s": round(self.elapsed, 1)}, f)
            shutil.rmtree(final, ignore_errors=True)
            os.replace(tmp, final)
        except BaseException:  # a second Ctrl-C included: leave no half-written folder
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        pointer = os.path.join(self.ckpt_root, "latest")
        with open(pointer + ".tmp", "w") as f:
            f.write(name)
        os.replace(pointer + ".tmp", pointer)
        rotating = sorted(d for d in os.listdir(self.ckpt_root)
                          if d.startswith("ckpt-") and not d.endswith(".tmp")
                          and not self._kept(d))
        for old in rotating[:-self.keep]:
            shutil.rmtree(os.path.join(self.ckpt_root, old), ignore_errors=True)
        self._last_checkpoint_time = time.time()
        if log and self.chief:
            log(f"checkpoint {final}")
        return final

    def _kept(self, name):
        """Whether checkpoint folder `name` is kept out of the rotation."""
        return bool(self.keep_every) and int(name[len("ckpt-"):]) % self.keep_every == 0

    def checkpoint(self, log=None):
        """The newest checkpoint's path, saving one first unless it is of this step."""
        latest = self.latest_checkpoint()
        if latest is not None and os.path.basename(latest) == f"ckpt-{self.step:08d}":
            return latest
        return self.save_checkpoint(log)

    # ---- the loop -------------------------------------------------------------
    def _make_run(self):
        model, strategy, names, schedule = (self.model, self.strategy, self.names,
                                            self.learning_rate)

        def replica_step(batch):
            ctx = tf.distribute.get_replica_context()
            n = ctx.num_replicas_in_sync
            if n > 1:
                size = tf.shape(batch[0])[0] // n
                start = ctx.replica_id_in_sync_group * size
                batch = tuple(t[start:start + size] for t in batch)
            return model.train_step_losses(batch)

        @tf.function
        def run(iterator, steps):
            totals = tuple(tf.constant(0.0) for _ in names)
            finite = tf.constant(True)
            for _ in tf.range(steps):
                if schedule is not None:
                    rate = schedule(model.g_optimizer.iterations)
                    model.g_optimizer.learning_rate = rate
                    model.d_optimizer.learning_rate = rate
                per_replica = strategy.run(replica_step, args=(next(iterator),))
                values = tuple(strategy.reduce(tf.distribute.ReduceOp.MEAN,
                                               per_replica[name], axis=None)
                               for name in names)
                totals = tuple(t + v for t, v in zip(totals, values))
                finite = tf.logical_and(
                    finite, tf.reduce_all([tf.math.is_finite(v) for v in values]))
            return {name: total / tf.cast(steps, tf.float32)
                    for name, total in zip(names, totals)}, finite
        return run

    def current_learning_rate(self):
        """The rate of the generator optimizer's last step (the schedule's, if any)."""
        return float(tf.convert_to_tensor(self.model.g_optimizer.learning_rate))

    def write_samples(self):
        if self.sample_batch is None:
            return None
        grid = sample_grid(self.model, *self.sample_batch)
        os.makedirs(os.path.join(self.out_dir, "samples"), exist_ok=True)
        path = os.path.join(self.out_dir, "samples", f"step_{self.step:08d}.png")
        atomic_write_png(path, grid)
        with self.writer.as_default():
            tf.summary.image("samples", grid[None], step=self.step)
        return path

    def train(self, steps, log=print, stop=None):
        """Trains until the step counter reaches `steps`; returns the last losses.

        Args:
            steps: the step to reach (a total: a run resumed at step 400 with
                `steps=1000` trains 600 more).
            log: prints the progress lines (on the chief only).
            stop: optional object whose `requested` attribute, when set,
                stops training at the next step boundary (`StopOnSignals`);
                the caller then saves a checkpoint (`checkpoint()`).
        """
        logs = {}
        progress = _Progress(self, steps, log if self.chief else None)
        self._last_checkpoint_time = time.time()
        step_time = None  # seconds per step, measured after the tracing call
        while self.step < steps and not (stop is not None and stop.requested):
            chunk = self._next_chunk(steps, step_time)
            chunk_start = time.time()
            logs, finite = self._run(self.iterator, tf.constant(chunk))
            if not bool(finite):
                last = self.latest_checkpoint()
                raise NonFiniteLossError(
                    f"A loss became NaN or Inf between steps {self.step} and "
                    f"{self.step + chunk}; stopped without saving. Last good checkpoint: "
                    f"{last or 'none'}. Lower the learning rate or the loss weights, "
                    "then resume.")
            took = time.time() - chunk_start
            if progress.calls:
                step_time = took / chunk
            self.step += chunk
            self.elapsed += took
            logs = {k: float(v) for k, v in logs.items()}
            progress.update(chunk, took, logs, final=self.step >= steps)
            if self.sample_every and self.step % self.sample_every == 0:
                self.write_samples()
            if (self.checkpoint_every and self.step % self.checkpoint_every == 0) or (
                    self.checkpoint_seconds is not None
                    and time.time() - self._last_checkpoint_time >= self.checkpoint_seconds):
                self.save_checkpoint(log)
        self.writer.flush()
        return logs

    def _next_chunk(self, steps, step_time):
        """Steps for the next call: see the class docstring."""
        if step_time is None:
            return 1
        bounds = [self.log_every, steps - self.step]
        bounds += [every - self.step % every
                   for every in (self.sample_every, self.checkpoint_every) if every]
        if self.max_chunk_seconds is not None:
            bounds.append(max(1, int(self.max_chunk_seconds / max(step_time, 1e-9))))
        return min(bounds)

    def finish(self):
        """Removes a non-chief worker's scratch folder."""
        if not self.chief:
            shutil.rmtree(self.out_dir, ignore_errors=True)


def first_batch(dataset, n):
    """The first `n` examples of a batched dataset as numpy (x_a, x_b)."""
    batch = next(iter(dataset.unbatch().batch(n).take(1)))
    return tuple(np.asarray(b) for b in batch[:2])


class _Progress:
    """Progress lines and TensorBoard scalars of one `Trainer.train` call.

    Losses are averaged over the steps since the last line. The speed is
    measured from the end of the first call (which builds the graph) on.
    """

    def __init__(self, trainer, steps, log):
        self.trainer, self.steps, self.log = trainer, steps, log
        self.calls = 0
        self.sums, self.count = {}, 0
        self.since = None          # (step, time) after the first call
        self.last_line = (trainer.step, time.time())

    def update(self, chunk, took, logs, final):
        t = self.trainer
        now = time.time()
        self.calls += 1
        for name, value in logs.items():
            self.sums[name] = self.sums.get(name, 0.0) + value * chunk
        self.count += chunk
        if self.since is None:
            self.since = (t.step, now)
            speed = f"first call {took:.1f} s (builds the graph)"
        else:
            rate = (t.step - self.since[0]) / max(now - self.since[1], 1e-9)
            speed = f"{rate:.2f} it/s ETA {format_eta((self.steps - t.step) / rate)}"
        due = (self.calls <= 2 or final or t.step - self.last_line[0] >= t.log_every
               or now - self.last_line[1] >= 60)
        if not due:
            return
        means = {name: total / self.count for name, total in self.sums.items()}
        with t.writer.as_default():
            for name, value in means.items():
                tf.summary.scalar(f"loss/{name}", value, step=t.step)
            tf.summary.scalar("learning_rate", t.current_learning_rate(), step=t.step)
        if self.log:
            self.log(f"step {t.step}/{self.steps} {speed} "
                     + " ".join(f"{k}={v:.4g}" for k, v in sorted(means.items())))
        self.sums, self.count = {}, 0
        self.last_line = (t.step, now)


def format_eta(seconds):
    """"1h05m", "4m07s" or "?"."""
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"
