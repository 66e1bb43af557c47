r"""Benchmark UNIT: train-step speed, inference latency, the machine's matmul peak.

Usage:
    # Everything at the default settings (about 45 minutes on a 2-core CPU).
    python tools/benchmark.py --out runs/benchmark.json

    # Smoke run of every section (a few minutes; the figures mean nothing).
    python tools/benchmark.py --quick --only peak,train,pipeline,reuse,inference,profile

    # Only the matmul peak and the train steps of the half-width net at 128x128.
    python tools/benchmark.py --only peak,train --translation_preset nips_translation_lite \
        --nodigits --train_sizes 128 --precisions float32,mixed_bfloat16 --jit_compile false

    # Reusing the E/G pass for the D step vs recomputing it: timing and losses.
    python tools/benchmark.py --only reuse --reuse_steps 100

    # Where the time goes: TensorFlow profiler on the translation train step.
    python tools/benchmark.py --only profile --profile_dir runs/profile \
        --profile_precision mixed_bfloat16

    # Benchmark-only changes, timed A/B (interleaved) in one process.
    python tools/benchmark.py --only train --nodigits --train_sizes 128 --jit_compile false \
        --experiment group_norm,fused_instance_norm,norm_grad,batched_streams,fused_adam \
        --compare_experiments --reps 7

    # Inference before/after: grouped instance norm, TFLite with a free batch.
    python tools/benchmark.py --only inference --inference_sizes 256 \
        --experiment group_norm,free_batch --compare_experiments

    # Settings that need a fresh process: oneDNN, thread pools, the allocator.
    TF_ENABLE_ONEDNN_OPTS=0 python tools/benchmark.py --only train --nodigits ...
    UNIT_TF_ALLOCATOR=system python tools/benchmark.py --only train --nodigits ...
    python tools/benchmark.py --only train --inter_op_threads 1 --intra_op_threads 2 ...

Sections (--only): peak, train, pipeline, reuse, inference, profile.
Figures marked [abs] are absolute (ms, GFLOP/s) and hold for this machine
only: a 2-core CPU, not a GPU. Figures marked [ratio] are achieved FLOP/s
over the measured matmul peak of the same precision, which travel better.
FLOPs are analytic (`unit_tf.flops`): convolutions and dense layers only.
The JSON (--out) is written atomically after every section. Timings share
the CPU with whatever else runs: the load average is recorded with every
row; compare variants timed in one process (interleaved), not across runs.
"""

import functools
import math
import os
import platform
import statistics
import sys
import tempfile
import time

from absl import app, flags

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TOOLS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(TOOLS, ".."))
sys.path.insert(0, TOOLS)

import _model_flags  # noqa: E402  tools/train.py's model flags: a card's recipe, timed as trained

SECTIONS = ("peak", "train", "pipeline", "reuse", "inference", "profile")
BACKENDS = ("keras", "keras_bfloat16", "saved_model", "tflite_float32", "tflite_float16",
            "tflite_int8")
EXPERIMENTS = ("group_norm", "fused_instance_norm", "norm_grad", "batched_streams", "fused_adam",
               "free_batch")
INFERENCE_ONLY = ("free_batch",)
from _paths import MAPS_ROOT as MAPS  # noqa: E402  $UNIT_TF_MAPS_ROOT or ../shared/data/maps

FLAGS = flags.FLAGS
flags.adopt_module_key_flags(_model_flags)  # listed by --helpshort
flags.DEFINE_list("only", ["peak", "train", "pipeline", "reuse", "inference"],
                  f"Sections to run, from {', '.join(SECTIONS)}.")
flags.DEFINE_bool("quick", False, "Smoke run: small sizes, one rep, few steps.")
flags.DEFINE_string("out", "runs/benchmark.json", "Where the JSON goes.")
flags.DEFINE_list("translation_preset", ["nips_translation"],
                  "Translation preset(s): nips_translation and/or nips_translation_lite.")
flags.DEFINE_bool("digits", True, "Also time the digits preset (batch 64, 32x32).")
flags.DEFINE_list("train_sizes", ["128", "256"], "Translation train sizes (batch 1).")
flags.DEFINE_list("precisions", ["float32", "mixed_bfloat16"], "Keras dtype policies.")
flags.DEFINE_list("jit_compile", ["false", "true"], "XLA off and/or on for the train step.")
flags.DEFINE_float("xla_max_gflop", 100.0, "Skip XLA train rows above this many GFLOP "
                   "per iteration: XLA:CPU runs backprop and transposed convolutions as "
                   "naive loops (10-40x slower), so big nets take hours.")
flags.DEFINE_integer("warmup", 1, "Untimed calls before timing (the first one traces).")
flags.DEFINE_integer("reps", 5, "Timed calls; the median is reported.")
flags.DEFINE_integer("steps_per_call", 0, "Train steps per tf.function call (tf.range "
                     "loop); 0: enough for --min_call_seconds.")
flags.DEFINE_float("min_call_seconds", 2.0, "Target length of a timed call when "
                   "--steps_per_call is 0.")
flags.DEFINE_integer("max_steps_per_call", 20, "Cap for the automatic steps per call.")
flags.DEFINE_string("data", None, "Data spec of the real-pipeline rows; default maps:"
                    f"{MAPS} when present (translation), mnist_toy (digits).")
flags.DEFINE_integer("reuse_steps", 30, "Steps of the reuse-vs-recompute loss run.")
flags.DEFINE_list("reuse_presets", ["digits", "translation"],
                  "Presets of the reuse section ('translation' = the first "
                  "--translation_preset at the first --train_sizes).")
flags.DEFINE_list("inference_sizes", ["256", "512"], "Inference sizes (batch 1).")
flags.DEFINE_list("backends", list(BACKENDS), f"Inference backends, from {BACKENDS}.")
flags.DEFINE_string("inference_model", None, "Time (and check the parity of) this trained "
                    "model: a zoo name or a .keras file; default: the preset at random init.")
flags.DEFINE_integer("inference_reps", 5, "Timed inference calls (median).")
flags.DEFINE_float("inference_row_seconds", 60.0, "Fewer timed calls (at least 2) for "
                   "backends slower than this budget allows (int8 on LiteRT).")
flags.DEFINE_list("peak_sizes", ["2048", "4096"], "Square matmul sizes; the best median "
                  "is the peak.")
flags.DEFINE_integer("peak_reps", 5, "Timed matmuls per size and precision.")
flags.DEFINE_string("profile_dir", None, "Profiler logs (default: a temporary folder).")
flags.DEFINE_integer("profile_size", 128, "Image size of the profiled train step.")
flags.DEFINE_string("profile_precision", "float32", "Policy of the profiled train step.")
flags.DEFINE_integer("profile_steps", 2, "Steps inside the profiled call.")
flags.DEFINE_integer("intra_op_threads", 0, "TF intra-op threads (0: TF's default).")
flags.DEFINE_integer("inter_op_threads", 0, "TF inter-op threads (0: TF's default).")
flags.DEFINE_list("experiment", [], f"Benchmark-only changes to try, from {EXPERIMENTS}.")
flags.DEFINE_bool("compare_experiments", False, "Time the train rows without and with "
                  "each --experiment, interleaved in one process (A/B under the same load).")
flags.DEFINE_integer("batch_size", 0, "Override the translation batch size (0: preset's).")
flags.DEFINE_integer("seed", 0, "Seed of the weights, the synthetic data and the noise.")


# ---- helpers ------------------------------------------------------------------
def median(values):
    return statistics.median(values) if values else float("nan")


def loadavg():
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def write_json(path, payload):
    """Writes `payload` to `path` atomically (numpy scalars and the like as str)."""
    from unit_tf.fileio import atomic_write_json

    atomic_write_json(path, payload, default=str)


# The JSON being written, so that each row lands in --out as soon as it is
# measured (a killed run keeps what it measured, under "rows_so_far").
RESULT = {}


def keep_row(row):
    """Appends a measured row to RESULT["rows_so_far"] and rewrites --out."""
    RESULT.setdefault("rows_so_far", []).append(row)
    write_json(FLAGS.out, RESULT)


def print_table(title, rows, columns):
    """Prints `rows` (dicts) under `title`; `columns` are (key, header, format)."""
    print(f"\n== {title}")
    if not rows:
        print("   (no rows)")
        return
    cells = [[_fmt(row.get(key), fmt) for key, _, fmt in columns] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (_, h, _) in enumerate(columns)]
    print("  ".join(h.ljust(w) for (_, h, _), w in zip(columns, widths)))
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths)))


def _fmt(value, fmt):
    if value is None:
        return "-"
    if isinstance(value, float) and math.isnan(value):
        return "-"
    if isinstance(value, str):
        return value
    return format(value, fmt)


class Skip(Exception):
    """A row that cannot run here; the reason is printed and recorded."""


def settings():
    """Returns the run's settings after --quick (a dict)."""
    s = dict(translation_presets=FLAGS.translation_preset,
             train_sizes=[int(v) for v in FLAGS.train_sizes],
             precisions=FLAGS.precisions,
             jit=[v.lower() in ("1", "true", "yes") for v in FLAGS.jit_compile],
             warmup=FLAGS.warmup, reps=FLAGS.reps, steps_per_call=FLAGS.steps_per_call,
             min_call_seconds=FLAGS.min_call_seconds, digits_batch=None,
             inference_sizes=[int(v) for v in FLAGS.inference_sizes],
             inference_reps=FLAGS.inference_reps,
             peak_sizes=[int(v) for v in FLAGS.peak_sizes], peak_reps=FLAGS.peak_reps,
             reuse_steps=FLAGS.reuse_steps, profile_size=FLAGS.profile_size,
             profile_steps=FLAGS.profile_steps,
             # The translation presets' recipe (tools/train.py's model flags that are set).
             preset_overrides=_model_flags.preset_overrides(),
             unit_options=_model_flags.unit_options())
    if FLAGS.quick:
        s.update(translation_presets=["nips_translation_lite"], train_sizes=[64],
                 warmup=1, reps=2, steps_per_call=1, digits_batch=8,
                 inference_sizes=[64], inference_reps=2, peak_sizes=[512], peak_reps=2,
                 reuse_steps=3, profile_size=64, profile_steps=1)
    return s


# ---- models -------------------------------------------------------------------
def build_model(preset, image_size, batch_size, precision, jit=False, seed=0,
                experiments=None, noise_seed=None):
    """A compiled UNIT with built optimizers under the `precision` policy.

    `seed` fixes the initial weights and, unless `noise_seed` is given, the
    latent noise.
    """
    import keras

    import unit_tf

    keras.mixed_precision.set_global_policy(precision)
    keras.utils.set_random_seed(seed)
    p = unit_tf.get_preset(preset)
    overrides, options = {"batch_size": batch_size}, {}
    if not p.fixed_size:  # the card's recipe; the fixed-size digits rows keep their preset
        overrides.update(image_size=image_size, **_model_flags.preset_overrides())
        options = _model_flags.unit_options()
    model = unit_tf.UNIT(preset, overrides=overrides, **options,
                         seed=seed if noise_seed is None else noise_seed)
    model.compile(jit_compile=jit)
    model.g_optimizer.build(model.generator_variables)
    if model.discriminator_variables:
        model.d_optimizer.build(model.discriminator_variables)
    apply_experiments(model, FLAGS.experiment if experiments is None else experiments)
    return model


def apply_experiments(model, experiments):
    """Benchmark-only changes (names from EXPERIMENTS) applied to a built model."""
    for name, make_class in (("group_norm", _group_norm_class),
                             ("fused_instance_norm", _fused_instance_norm_class),
                             ("norm_grad", _norm_grad_class)):
        if name not in experiments:
            continue
        from unit_tf.layers import InstanceNormalization

        layers = [layer for layer in model._flatten_layers(include_self=False, recursive=True)
                  if isinstance(layer, InstanceNormalization)]
        if not layers:
            raise Skip(f"{name}: the model has no instance norm")
        for layer in layers:
            layer.__class__ = make_class()
    if "batched_streams" in experiments:
        model.__class__ = _batched_streams_class(type(model))
    if "fused_adam" in experiments:
        for optimizer in (model.g_optimizer, model.d_optimizer):
            if type(optimizer).__name__ != "Adam" or optimizer.amsgrad:
                raise Skip("fused_adam: the optimizers are not plain Adam")
            optimizer.__class__ = _fused_adam_class()


_EXPERIMENT_CLASSES = {}  # name -> class, made once


def _group_norm_class():
    """Instance norm as Keras' GroupNormalization(groups=-1) computes it.

    The library's layer before `unit_tf.layers.InstanceNormalization`: the
    input is reshaped into groups of one channel ([N, H, W, C] ->
    [N, H, W, C, 1]), normalised over (H, W, 1), and reshaped back.
    """
    if "group_norm" in _EXPERIMENT_CLASSES:
        return _EXPERIMENT_CLASSES["group_norm"]
    from keras import ops

    from unit_tf.layers import InstanceNormalization

    class GroupNormInstanceNorm(InstanceNormalization):
        def call(self, inputs):
            grouped = ops.cast(ops.expand_dims(inputs, -1), "float32")
            mean, variance = ops.moments(grouped, axes=(1, 2, 4), keepdims=True)
            inv = ops.rsqrt(variance + self.epsilon)
            y = ops.reshape(grouped * inv - mean * inv, ops.shape(inputs))
            return ops.cast(y, self.compute_dtype)

    _EXPERIMENT_CLASSES["group_norm"] = GroupNormInstanceNorm
    return GroupNormInstanceNorm


def _fused_instance_norm_class():
    """Instance norm computed by the fused batch-norm kernel.

    With one image per batch, per-image-per-channel statistics are batch
    statistics, so FusedBatchNormV3 in training mode (one oneDNN kernel
    forward, one backward) gives instance norm exactly; larger batches are
    folded into the channel axis first. Same maths as the library's layer.
    """
    if "instance_norm" in _EXPERIMENT_CLASSES:
        return _EXPERIMENT_CLASSES["instance_norm"]
    import tensorflow as tf

    from unit_tf.layers import InstanceNormalization

    class FusedInstanceNorm(InstanceNormalization):
        def call(self, inputs):
            x = tf.cast(inputs, tf.float32) if inputs.dtype == tf.float16 else inputs
            n, h, w, c = (x.shape[i] if x.shape[i] is not None else tf.shape(x)[i]
                          for i in range(4))
            folded = n != 1
            if folded:  # [N, H, W, C] -> [1, H, W, N*C]
                x = tf.reshape(tf.transpose(x, [1, 2, 0, 3]), [1, h, w, -1])
            channels = x.shape[-1] if x.shape[-1] is not None else tf.shape(x)[-1]
            ones = tf.ones([channels], tf.float32)
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(
                x, ones, tf.zeros_like(ones), epsilon=self.epsilon, is_training=True)
            if folded:
                y = tf.transpose(tf.reshape(y, [h, w, n, c]), [2, 0, 1, 3])
            return tf.cast(y, self.compute_dtype)

    _EXPERIMENT_CLASSES["instance_norm"] = FusedInstanceNorm
    return FusedInstanceNorm


def _norm_grad_class():
    """Instance norm with its gradient written by hand.

    dx = inv * (dy - mean(dy) - y * mean(dy * y)) over the spatial axes, in
    place of what autodiff derives from the moments (Tile, Neg and a dozen
    elementwise passes).
    """
    if "norm_grad" in _EXPERIMENT_CLASSES:
        return _EXPERIMENT_CLASSES["norm_grad"]
    from keras import ops

    from unit_tf.layers import InstanceNormalization

    class NormGradInstanceNorm(InstanceNormalization):
        def call(self, inputs):
            axes, epsilon = self._axes, self.epsilon

            @ops.custom_gradient
            def norm(x):
                mean, variance = ops.moments(x, axes=axes, keepdims=True)
                inv = ops.rsqrt(variance + epsilon)
                y = x * inv - mean * inv

                def grad(*args, upstream=None):
                    dy = args[0] if upstream is None else upstream
                    return inv * (dy - ops.mean(dy, axes, keepdims=True)
                                  - y * ops.mean(dy * y, axes, keepdims=True))
                return y, grad

            return ops.cast(norm(ops.cast(inputs, "float32")), self.compute_dtype)

    _EXPERIMENT_CLASSES["norm_grad"] = NormGradInstanceNorm
    return NormGradInstanceNorm


def _batched_streams_class(base):
    """Streams that share a network run as one batch.

    G_a and G_b decode [z_a; z_b] in one call each (their shared layers once
    on the pair), and D_domain judges [real; translation] in one call, instead
    of one call per image. Same losses and FLOPs; larger, fewer kernels.
    """
    if ("batched_streams", base) in _EXPERIMENT_CLASSES:
        return _EXPERIMENT_CLASSES["batched_streams", base]
    from keras import ops

    from unit_tf.models import losses

    class BatchedStreams(base):
        def call(self, inputs, training=False):
            if not self.cycle_consistency:
                raise Skip("batched_streams: needs cycle consistency")
            x_a, x_b = inputs
            codes = {"a": self.encode(x_a, "a", training), "b": self.encode(x_b, "b", training)}
            n = ops.shape(x_a)[0]
            g_a, g_b = self.decode_both(ops.concatenate([codes["a"]["z"], codes["b"]["z"]]),
                                        training)
            images = {"aa": g_a[:n], "ba": g_a[n:], "ab": g_b[:n], "bb": g_b[n:]}
            codes["ab"] = self.encode(images["ab"], "b", training)
            codes["ba"] = self.encode(images["ba"], "a", training)
            images["aba"] = self.decode(codes["ab"]["z"], "a", training)
            images["bab"] = self.decode(codes["ba"]["z"], "b", training)
            return images, codes

        def discriminator_losses(self, x_a, x_b, images, labels_a=None, training=True):
            p = self.preset
            if any(k.startswith("d_") and k not in ("d_gan", "d_loss") for k in self.trackers):
                raise Skip("batched_streams: plain GAN terms only")
            if p.reconstructions_as_fakes:
                raise Skip("batched_streams: translations as the only fakes")
            total = 0.0
            for domain, x, key in (("a", x_a, "ba"), ("b", x_b, "ab")):
                n = ops.shape(x)[0]
                both = ops.concatenate([x, ops.stop_gradient(images[key])])
                for logits, _ in self.discriminate(both, domain, training):
                    total += losses.gan_discriminator(logits[:n], logits[n:], p.gan_loss)
            return {"d_gan": total}

    _EXPERIMENT_CLASSES["batched_streams", base] = BatchedStreams
    return BatchedStreams


def _fused_adam_class():
    """keras Adam whose per-variable update is one ResourceApplyAdam kernel.

    Same update as Keras' Adam (alpha = lr * sqrt(1 - b2^t) / (1 - b1^t),
    epsilon added to sqrt(v)), in one fused op per variable instead of about
    ten elementwise ops.
    """
    if "adam" in _EXPERIMENT_CLASSES:
        return _EXPERIMENT_CLASSES["adam"]
    import keras
    import tensorflow as tf

    def handle(v):
        return v.handle if hasattr(v, "handle") else v._value.handle

    class FusedAdam(keras.optimizers.Adam):
        def update_step(self, gradient, variable, learning_rate):
            dtype = variable.dtype
            step = tf.cast(self.iterations + 1, dtype)
            b1, b2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
            i = self._get_variable_index(variable)
            tf.raw_ops.ResourceApplyAdam(
                var=handle(variable), m=handle(self._momentums[i]),
                v=handle(self._velocities[i]), beta1_power=tf.pow(b1, step),
                beta2_power=tf.pow(b2, step), lr=tf.cast(learning_rate, dtype), beta1=b1,
                beta2=b2, epsilon=tf.cast(self.epsilon, dtype),
                grad=tf.cast(gradient, dtype))

    _EXPERIMENT_CLASSES["adam"] = FusedAdam
    return FusedAdam


def synthetic_batch(model, image_size, batch_size, seed=0):
    import tensorflow as tf

    p = model.preset
    size = p.image_size if p.fixed_size else image_size
    gen = tf.random.Generator.from_seed(seed)
    return tuple(gen.uniform((batch_size, size, size, c), -1.0, 1.0)
                 for c in (p.channels_a, p.channels_b))


def _rel(value, ref):
    return (value - ref) / (abs(ref) + 1e-12)


def recompute_train_step(model, data, same_noise=False):
    """UNIT iteration that recomputes the E/G pass for the D step.

    The alternative to `UNIT.train_step_losses` (which runs the E/G pass once
    and lets the D step reuse its translations), written with the model's
    public methods: `model((x_a, x_b), training=True)` once for the D step
    and again, under the tape, for the E/G step. With `same_noise` the latent
    noise generators are rewound in between, so both passes draw the same z.
    """
    import tensorflow as tf

    x_a, x_b, labels_a = model.unpack(data)
    generators = latent_seed_generators(model) if same_noise else []
    saved = [tf.identity(g.state.value) for g in generators]
    named = {}
    if model.use_discriminators:
        images, _ = model((x_a, x_b), training=True)
        named.update(model.discriminator_step(x_a, x_b, images, labels_a))
    for g, state in zip(generators, saved):
        g.state.assign(state)
    with tf.GradientTape() as tape:
        images, codes = model((x_a, x_b), training=True)
        g_losses = model.generator_losses(x_a, x_b, images, codes)
        g_loss = model.weighted_total(g_losses)
    variables = model.generator_variables
    grads = tape.gradient(g_loss, variables)
    model.g_optimizer.apply_gradients(zip(grads, variables))
    named.update(g_losses, g_loss=g_loss)
    return named


def latent_seed_generators(model):
    from unit_tf.layers import GaussianLatent

    found = {}
    for domain in ("a", "b"):
        for layer in model.encoder.branch(domain):
            if isinstance(layer, GaussianLatent):
                found[id(layer)] = layer.seed_generator
    return list(found.values())


STEP_FNS = {
    "reuse": lambda model, data: model.train_step_losses(data),
    "recompute": recompute_train_step,
    "recompute_same_noise": lambda model, data: recompute_train_step(model, data, True),
}


def make_loop(model, step_fn, jit, batch=None):
    """A tf.function running `steps` train steps in a tf.range loop (like training.py).

    With `batch` the steps read that in-memory batch; otherwise the function
    takes a tf.data iterator and calls next() inside the loop.
    """
    import tensorflow as tf

    if batch is not None:
        @tf.function(jit_compile=jit)
        def run(steps):
            total = tf.constant(0.0)
            for _ in tf.range(steps):
                total += tf.cast(step_fn(model, batch)["g_loss"], tf.float32)
            return total
        return lambda steps: run(tf.constant(steps))

    @tf.function(jit_compile=jit)
    def run_iter(iterator, steps):
        total = tf.constant(0.0)
        for _ in tf.range(steps):
            total += tf.cast(step_fn(model, next(iterator))["g_loss"], tf.float32)
        return total
    return run_iter


def time_calls(calls, s):
    """Times `call(steps)` for each of `calls`, interleaved, after warm-up.

    The calls are timed in turn (A, B, A, B, ...) so that load from other
    processes hits every variant alike. Returns one (median s/step,
    all s/step, steps per call, (median, all) CPU s/step) per call; the CPU time is
    the process's (all its threads), which other processes on the same
    cores inflate less than the wall time.
    """
    steps = s["steps_per_call"]
    for call in calls:
        for _ in range(max(1, s["warmup"])):
            float(call(steps or 1))
    if not steps:
        one = 0.0
        for call in calls:
            start = time.perf_counter()
            float(call(1))
            one = max(one, time.perf_counter() - start)
        steps = max(1, min(FLAGS.max_steps_per_call, math.ceil(s["min_call_seconds"] / one)))
        if steps > 1:  # XLA compiles again for another trip count
            for call in calls:
                float(call(steps))
    times = [[] for _ in calls]
    cpu_times = [[] for _ in calls]
    for _ in range(s["reps"]):
        for call, record, cpu_record in zip(calls, times, cpu_times):
            start, cpu_start = time.perf_counter(), time.process_time()
            float(call(steps))
            record.append((time.perf_counter() - start) / steps)
            cpu_record.append((time.process_time() - cpu_start) / steps)
    return [(median(t), t, steps, (median(c), c)) for t, c in zip(times, cpu_times)]


# ---- sections -----------------------------------------------------------------
def run_peak(s):
    """Median FLOP/s of large square matmuls in float32 and/or bfloat16 (those of
    --precisions: a CPU without bfloat16 may not run the bfloat16 one at all,
    e.g. oneDNN limited to AVX2 aborts on it)."""
    import tensorflow as tf

    rows = []
    wanted = {"bfloat16" if "bfloat16" in p else "float32" for p in s["precisions"]}
    for dtype in [d for d in ("float32", "bfloat16") if d in wanted]:
        for n in s["peak_sizes"]:
            a = tf.random.uniform((n, n), dtype=tf.float32)
            b = tf.random.uniform((n, n), dtype=tf.float32)
            a, b = tf.cast(a, dtype), tf.cast(b, dtype)
            matmul = tf.function(lambda x, y: tf.reduce_sum(
                tf.cast(tf.linalg.matmul(x, y)[:1, :1], tf.float32)))
            float(matmul(a, b))
            times = []
            for _ in range(s["peak_reps"]):
                start = time.perf_counter()
                float(matmul(a, b))
                times.append(time.perf_counter() - start)
            t = median(times)
            rows.append(dict(dtype=dtype, n=n, ms=1e3 * t, gflops=2 * n ** 3 / t / 1e9,
                             load=loadavg()))
            keep_row(rows[-1])
    peak = {}
    for r in rows:
        peak[r["dtype"]] = max(peak.get(r["dtype"], 0.0), r["gflops"])
    print_table("Peak matmul (median per size; peak = best size)", rows, [
        ("dtype", "dtype", ""), ("n", "n", "d"), ("ms", "ms [abs]", ".1f"),
        ("gflops", "GFLOP/s [abs]", ".1f"), ("load", "loadavg", "")])
    return {"rows": rows, "peak_gflops": peak}


def peak_for(precision, peak):
    key = "bfloat16" if "bfloat16" in precision else "float32"
    return peak.get(key)


def train_configs(s):
    """(preset, size, batch) of the train rows."""
    configs = []
    if FLAGS.digits:
        configs.append(("digits", 32, s["digits_batch"] or 64))
    for preset in s["translation_presets"]:
        for size in s["train_sizes"]:
            configs.append((preset, size, FLAGS.batch_size or 1))
    return configs


def train_rows(preset, size, batch, precision, jit, s, peak, variants=(("reuse", None),)):
    """Times train-step variants of one configuration, interleaved.

    A variant is (D-step input, data spec or None) or (D-step input, data,
    experiments); without experiments it takes --experiment.

    Returns one row per variant; a variant that cannot run here gets a
    "skipped" reason instead of figures.
    """
    import keras

    from unit_tf import flops

    rows, timed = [], []
    keras.backend.clear_session()
    for variant in variants:
        step, data = variant[:2]
        experiments = tuple(variant[2]) if len(variant) > 2 else tuple(FLAGS.experiment)
        row = dict(preset=preset, size=size, batch=batch, precision=precision,
                   jit=jit, step=step, data=data or "synthetic",
                   experiment=",".join(experiments) or None)
        rows.append(row)
        try:
            model = build_model(preset, size, batch, precision, seed=FLAGS.seed,
                                experiments=experiments)
            count = flops.train_step_flops(model, size, batch,
                                           reuse_translations=step == "reuse")
            if jit and count.total / 1e9 > FLAGS.xla_max_gflop:
                raise Skip(f"XLA row of {count.total / 1e9:.0f} GFLOP/iter is over "
                           f"--xla_max_gflop {FLAGS.xla_max_gflop:g} (XLA:CPU backprop "
                           "convs are naive loops)")
            if data is None:
                loop = make_loop(model, STEP_FNS[step], jit,
                                 batch=synthetic_batch(model, size, batch, FLAGS.seed))
            else:
                if jit:
                    raise Skip("XLA cannot compile a tf.data iterator inside the loop")
                iterator = iter(real_dataset(model, data, size, batch))
                loop = functools.partial(make_loop(model, STEP_FNS[step], False), iterator)
            timed.append((row, loop, count))
        except Skip as e:
            row["skipped"] = str(e)
        except Exception as e:  # a failing configuration must not end the benchmark
            row["skipped"] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
    if timed:
        load_before = loadavg()
        try:
            results = time_calls([loop for _, loop, _ in timed], s)
        except Exception as e:
            results = None
            for row, _, _ in timed:
                row["skipped"] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
        ref = peak_for(precision, peak)
        for (row, _, count), (t, times, steps, (cpu, cpu_times)) in zip(timed, results or []):
            achieved = count.total / t / 1e9
            row.update(ms=1e3 * t, ms_all=[round(1e3 * v, 2) for v in times],
                       cpu_ms=1e3 * cpu, cpu_ms_all=[round(1e3 * v, 2) for v in cpu_times],
                       steps_per_call=steps, gflop=count.total / 1e9,
                       achieved_gflops=achieved, peak_gflops=ref,
                       ratio=achieved / ref if ref else None, load=(load_before, loadavg()))
    for row in rows:
        keep_row(row)
        figure = (f"{row['ms']:.1f} ms/iter" if "ms" in row
                  else f"skipped ({row['skipped']})")
        print(f"   {preset} {size} b{batch} {precision} jit={jit} {row['step']} "
              f"{row['data']}{' ' + row['experiment'] if row['experiment'] else ''}: "
              f"{figure}", flush=True)
    return rows


TRAIN_COLUMNS = [
    ("preset", "preset", ""), ("size", "size", "d"), ("batch", "batch", "d"),
    ("precision", "precision", ""), ("jit", "xla", ""), ("step", "D-step input", ""),
    ("data", "data", ""), ("experiment", "experiment", ""), ("ms", "ms/iter [abs]", ".1f"),
    ("cpu_ms", "CPU ms/iter [abs]", ".1f"),
    ("steps_per_call", "steps/call", "d"),
    ("gflop", "GFLOP/iter", ".1f"), ("achieved_gflops", "GFLOP/s [abs]", ".1f"),
    ("ratio", "of peak [ratio]", ".3f"), ("skipped", "note", "")]


def experiment_variants():
    """Train variants: --experiment as given, or with --compare_experiments the
    plain model, each experiment alone and all together, timed interleaved."""
    train_experiments = [e for e in FLAGS.experiment if e not in INFERENCE_ONLY]
    if not (FLAGS.compare_experiments and train_experiments):
        return (("reuse", None),)
    variants = [("reuse", None, ())] + [("reuse", None, (e,)) for e in train_experiments]
    if len(train_experiments) > 1:
        variants.append(("reuse", None, tuple(train_experiments)))
    return variants


def run_train(s, peak):
    rows = []
    for preset, size, batch in train_configs(s):
        for precision in s["precisions"]:
            for jit in s["jit"]:
                rows.extend(train_rows(preset, size, batch, precision, jit, s, peak,
                                       variants=experiment_variants()))
    print_table("Train step, synthetic data in memory (median after warm-up)", rows,
                TRAIN_COLUMNS)
    return rows


def default_data(preset):
    if FLAGS.data:
        return FLAGS.data
    if preset in ("digits", "tiny"):
        return "mnist_toy"
    if preset in ("lenet", "svhn"):
        return "mnist_uci"
    if os.path.isdir(MAPS):
        return f"maps:{MAPS}"
    return None


def real_dataset(model, spec, size, batch):
    from unit_tf import data as unit_data

    p = model.preset
    try:
        return unit_data.make_dataset(spec, image_size=p.image_size if p.fixed_size else size,
                                      batch_size=batch, channels=(p.channels_a, p.channels_b),
                                      seed=FLAGS.seed)
    except (ValueError, OSError) as e:
        raise Skip(f"data {spec!r} unavailable: {str(e).splitlines()[0]}") from None


def run_pipeline(s, peak):
    """Real input pipeline next to synthetic data, first precision, no XLA."""
    rows = []
    precision = s["precisions"][0]
    seen = set()
    for preset, size, batch in train_configs(s):
        if preset in seen:
            continue
        seen.add(preset)
        spec = default_data(preset)
        if spec is None:
            rows.extend(train_rows(preset, size, batch, precision, False, s, peak))
            rows.append(dict(preset=preset, size=size, batch=batch, precision=precision,
                             skipped=f"no real data for {preset} (pass --data)"))
            continue
        rows.extend(train_rows(preset, size, batch, precision, False, s, peak,
                               variants=(("reuse", None), ("reuse", spec))))
    print_table("Input pipeline: real data vs synthetic (same step)", rows, TRAIN_COLUMNS)
    return rows


def reuse_configs(s):
    configs = []
    for name in FLAGS.reuse_presets:
        if name == "digits":
            configs.append(("digits", 32, s["digits_batch"] or 64))
        elif name == "translation":
            configs.append((s["translation_presets"][0], s["train_sizes"][0],
                            FLAGS.batch_size or 1))
        else:
            configs.append((name, s["train_sizes"][0], FLAGS.batch_size or 1))
    return configs


def run_reuse(s, peak):
    """Reuse of the E/G pass by the D step vs recomputing it: timing and losses."""
    import keras
    import numpy as np
    import tensorflow as tf

    precision = s["precisions"][0]
    timing, losses = [], []
    for preset, size, batch in reuse_configs(s):
        timing.extend(train_rows(preset, size, batch, precision, False, s, peak,
                                 variants=(("reuse", None), ("recompute", None))))
        # Losses: same initial weights, same batches, step by step.
        spec = default_data(preset)
        keras.backend.clear_session()
        probe = build_model(preset, size, batch, precision, seed=FLAGS.seed)
        try:
            if spec is None:
                raise Skip("no real data")
            iterator = iter(real_dataset(probe, spec, size, batch))
            batches = [tuple(t.numpy() for t in next(iterator)) for _ in range(s["reuse_steps"])]
        except Skip:
            spec = "synthetic"
            batches = [tuple(t.numpy() for t in synthetic_batch(probe, size, batch, i))
                       for i in range(s["reuse_steps"])]
        del probe
        curves = {}
        # "reuse_other_noise": the library's step with another latent noise
        # seed (same weights, same batches), the yardstick for a different
        # noise draw.
        for step in (*STEP_FNS, "reuse_other_noise"):
            keras.backend.clear_session()
            model = build_model(preset, size, batch, precision, seed=FLAGS.seed,
                                noise_seed=FLAGS.seed + 1 if step.endswith("other_noise")
                                else None)
            fn = tf.function(lambda data, m=model, f=STEP_FNS[step.replace(
                "_other_noise", "")]: f(m, data))
            history = []
            for data in batches:
                out = fn(tuple(tf.constant(t) for t in data))
                history.append({k: float(v) for k, v in out.items()})
            curves[step] = history
        names = list(curves["reuse"][0])
        window = max(1, len(batches) // 2)
        for name in names:
            series = {step: np.array([h[name] for h in curves[step]]) for step in curves}
            row = dict(preset=preset, size=size, data=spec, loss=name)
            for step, values in series.items():
                row[f"{step}_first"] = float(values[0])
                row[f"{step}_last_mean"] = float(values[-window:].mean())
            for step in ("recompute", "recompute_same_noise", "reuse_other_noise"):
                row[f"{step}_rel_diff_first"] = _rel(row[f"{step}_first"],
                                                     row["reuse_first"])
                row[f"{step}_rel_diff_last_mean"] = _rel(row[f"{step}_last_mean"],
                                                         row["reuse_last_mean"])
            losses.append(row)
    print_table(f"Reuse of the E/G pass by the D step vs recomputing it ({precision}, "
                "no XLA)", timing, TRAIN_COLUMNS)
    print_table(f"Losses over {s['reuse_steps']} steps from the same weights and batches "
                "(last_mean = mean over the last half)", losses, [
                    ("preset", "preset", ""), ("loss", "loss", ""),
                    ("reuse_first", "reuse@1", ".4g"), ("recompute_first", "recomp@1", ".4g"),
                    ("recompute_rel_diff_first", "diff@1 [ratio]", "+.1e"),
                    ("recompute_same_noise_rel_diff_first", "same-noise diff@1", "+.1e"),
                    ("reuse_last_mean", "reuse last", ".4g"),
                    ("recompute_last_mean", "recomp last", ".4g"),
                    ("recompute_rel_diff_last_mean", "diff last [ratio]", "+.3f"),
                    ("recompute_same_noise_rel_diff_last_mean", "same-noise diff last",
                     "+.3f"),
                    ("reuse_other_noise_rel_diff_last_mean", "reuse other-noise diff last",
                     "+.3f")])
    print("   recomp: fresh latent noise for the second pass (the literal alternative); "
          "same-noise: the noise generators rewound between the passes, so it computes "
          "exactly what reuse computes and its differences are floating-point "
          "round-off (oneDNN thread order) amplified by training; reuse other-noise: the "
          "library's step with another noise seed, the yardstick for a fresh noise draw. "
          "diff = (variant - reuse) / |reuse|.")
    return {"timing": timing, "losses": losses}


def inference_image(size, channels, seed):
    """A real val satellite of the maps data resized to `size` when the folder
    is there (and the model takes RGB), else uniform noise: [1, size, size, C] uint8."""
    import numpy as np

    path = os.path.join(MAPS, "val", "1.jpg")
    if channels == 3 and os.path.isfile(path):
        from PIL import Image

        with Image.open(path) as im:
            w, h = im.size
            satellite = im.convert("RGB").crop((0, 0, w // 2, h))
            return np.asarray(satellite.resize((size, size), Image.BICUBIC))[None]
    return np.random.default_rng(seed).integers(0, 256, (1, size, size, channels), np.uint8)


def run_inference(s):
    """Per-image latency of one translation: Keras, SavedModel, TFLite on LiteRT,
    and each backend's difference from the Keras float32 output (uint8 levels).
    With --compare_experiments, every row also runs with each inference
    experiment, interleaved: group_norm (the grouped instance norm, the
    library's layer before) and free_batch (TFLite rows: exported with a free
    batch dimension instead of batch 1)."""
    import keras
    import numpy as np
    import tensorflow as tf

    from unit_tf import flops
    from unit_tf.data.sources import unit_to_uint8

    rows = []
    keras.backend.clear_session()
    if FLAGS.inference_model:
        from unit_tf.translator import Translator, load

        translator = load(FLAGS.inference_model)
        if not isinstance(translator, Translator):
            raise app.UsageError("--inference_model takes a zoo name or a .keras file.")
        model, preset = translator.model, translator.preset.name
    else:
        preset = s["translation_presets"][0]
        model = build_model(preset, 256, 1, "float32", seed=FLAGS.seed, experiments=())
    variants = [()]
    if FLAGS.compare_experiments:
        variants += [(e,) for e in ("group_norm", "free_batch") if e in FLAGS.experiment]
    models = {}  # (precision, variant) -> model
    to_uint8 = lambda y: unit_to_uint8(np.asarray(y, np.float32))  # noqa: E731

    def get_model(precision, variant):
        if (precision, variant) not in models:
            import unit_tf

            keras.mixed_precision.set_global_policy(precision)
            copy = unit_tf.UNIT(model.preset, seed=FLAGS.seed)
            copy.set_weights(model.get_weights())
            keras.mixed_precision.set_global_policy("float32")
            apply_experiments(copy, variant)
            models[precision, variant] = copy
        return models[precision, variant]

    tmp = tempfile.mkdtemp(prefix="unit_bench_")
    try:
        for size in s["inference_sizes"]:
            image = inference_image(size, model.preset.channels_a, FLAGS.seed)
            x = tf.constant(image.astype(np.float32) / 127.5 - 1.0)
            gflop = flops.translation_flops(model, size) / 1e9
            reference = to_uint8(tf.function(model.translate_a2b)(x))
            for backend in FLAGS.backends:
                for variant in variants:
                    if "free_batch" in variant and not backend.startswith("tflite"):
                        continue  # an export setting: TFLite rows only
                    row = dict(preset=preset, size=size, backend=backend, gflop=gflop,
                               model=FLAGS.inference_model or "random init",
                               experiment=",".join(variant) or None)
                    try:
                        m = get_model("mixed_bfloat16" if backend == "keras_bfloat16"
                                      else "float32",
                                      tuple(e for e in variant if e != "free_batch"))
                        tag = f"{size}_{'_'.join(variant) or 'library'}"
                        if backend in ("keras", "keras_bfloat16"):
                            fn = tf.function(m.translate_a2b)
                            call = lambda fn=fn: to_uint8(fn(x))  # noqa: E731
                        elif backend == "saved_model":
                            call = saved_model_runner(m, os.path.join(tmp, tag), image)
                        else:
                            call = tflite_runner(m, tmp, tag, backend.split("_")[1], image,
                                                 size, batch=None if "free_batch" in variant
                                                 else 1)
                        start = time.perf_counter()
                        out = call()  # warm-up (tracing, allocation)
                        first = time.perf_counter() - start
                        diff = np.abs(out.astype(np.int16) - reference.astype(np.int16))
                        reps = max(2, min(s["inference_reps"],
                                          int(FLAGS.inference_row_seconds / max(first, 1e-9))))
                        times = []
                        for _ in range(reps):
                            start = time.perf_counter()
                            call()
                            times.append(time.perf_counter() - start)
                        t = median(times)
                        row.update(ms=1e3 * t, ms_all=[round(1e3 * v, 2) for v in times],
                                   reps=reps, achieved_gflops=gflop / t,
                                   max_diff=int(diff.max()), mean_diff=float(diff.mean()),
                                   load=loadavg())
                    except Skip as e:
                        row["skipped"] = str(e)
                    except Exception as e:
                        row["skipped"] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
                    print(f"   {backend} {size} {row['experiment'] or ''}: "
                          + (f"{row['ms']:.1f} ms" if "ms" in row
                             else f"skipped ({row['skipped']})"), flush=True)
                    rows.append(row)
                    keep_row(row)
        keras_ms = {r["size"]: r["ms"] for r in rows
                    if r["backend"] == "keras" and not r["experiment"] and "ms" in r}
        for r in rows:
            if "ms" in r and r["size"] in keras_ms:
                r["speedup"] = keras_ms[r["size"]] / r["ms"]
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    print_table(f"Inference, one image A->B ({preset}, {rows[0]['model'] if rows else ''}, "
                f"batch 1, median)", rows, [
        ("size", "size", "d"), ("backend", "backend", ""), ("experiment", "experiment", ""),
        ("ms", "ms/image [abs]", ".1f"), ("speedup", "vs keras [ratio]", ".2f"),
        ("max_diff", "max |diff|", "d"), ("mean_diff", "mean |diff|", ".3f"),
        ("gflop", "GFLOP", ".2f"), ("achieved_gflops", "GFLOP/s [abs]", ".1f"),
        ("reps", "reps", "d"), ("skipped", "note", "")])
    print("   |diff|: per-pixel difference from the Keras float32 output (library layers), "
          "in uint8 levels (0-255), on one image; vs keras: the library's Keras float32 "
          "time over the row's.")
    return rows


def saved_model_runner(model, tmp, image):
    import tensorflow as tf

    try:
        from unit_tf.export import export_saved_model
    except ImportError as e:
        raise Skip(f"unit_tf.export not importable ({e})") from None
    if not os.path.isdir(os.path.join(tmp, "bench", "1")):
        export_saved_model(model, tmp, "bench", version=1)
    loaded = tf.saved_model.load(os.path.join(tmp, "bench", "1"))
    fn = loaded.signatures["translate_a2b"]
    images = tf.constant(image)
    return lambda: fn(images=images)["images"].numpy()


def tflite_runner(model, tmp, tag, quantize, image, size, batch=1):
    try:
        from unit_tf.export import export_tflite
    except ImportError as e:
        raise Skip(f"unit_tf.export not importable ({e})") from None
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise Skip("ai_edge_litert is not installed") from None
    path = os.path.join(tmp, f"model_{tag}_{quantize}.tflite")
    export_tflite(model, path, quantize="none" if quantize == "float32" else quantize,
                  size=size, batch=batch)
    runner = Interpreter(model_path=path, num_threads=2).get_signature_runner("translate_a2b")
    return lambda: runner(images=image)["images"]


# ---- profile ------------------------------------------------------------------
def run_profile(s):
    """TensorFlow profiler on the translation train step; op time by category."""
    import glob

    import keras
    import tensorflow as tf

    preset, size = s["translation_presets"][0], s["profile_size"]
    precision = FLAGS.profile_precision
    keras.backend.clear_session()
    model = build_model(preset, size, 1, precision, seed=FLAGS.seed)
    loop = make_loop(model, STEP_FNS["reuse"], False,
                     batch=synthetic_batch(model, size, 1, FLAGS.seed))
    float(loop(1))
    float(loop(1))
    logdir = FLAGS.profile_dir or tempfile.mkdtemp(prefix="unit_profile_")
    tf.profiler.experimental.start(logdir)
    start = time.perf_counter()
    float(loop(s["profile_steps"]))
    wall = (time.perf_counter() - start) / s["profile_steps"]
    tf.profiler.experimental.stop()
    files = sorted(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True),
                   key=os.path.getmtime)
    if not files:
        print(f"   no profile written in {logdir}")
        return {"skipped": "no xplane.pb written"}
    ops = read_op_times(files[-1])
    result = summarize_profile(ops, wall, s["profile_steps"])
    result.update(preset=preset, size=size, precision=precision, logdir=logdir,
                  xplane=files[-1], wall_ms_per_step=1e3 * wall)
    print_table(f"Profile: {preset} {size}x{size} batch 1 {precision}, op self-time per "
                f"step by category (wall {1e3 * wall:.0f} ms/step, op time / wall "
                f"{result['op_time_over_wall']:.2f})", result["categories"], [
                    ("category", "category", ""), ("ms", "ms/step [abs]", ".1f"),
                    ("share", "share [ratio]", ".3f")])
    print_table("Profile: top op types", result["op_types"][:15], [
        ("op_type", "op type", ""), ("ms", "ms/step [abs]", ".1f"),
        ("share", "share [ratio]", ".3f"), ("count", "calls/step", ".0f")])
    print(f"   TensorBoard: tensorboard --logdir {logdir} (needs tensorboard-plugin-profile)")
    return result


def read_op_times(path):
    """[(op name, op type, self-time seconds)] of the TF ops in an xplane.pb."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    with open(path, "rb") as f:
        space.ParseFromString(f.read())
    ops = []
    for plane in space.planes:
        if not plane.name.startswith("/host:CPU"):
            continue
        for line in plane.lines:
            events = []
            for e in line.events:
                md = plane.event_metadata[e.metadata_id]
                if md.display_name:  # TF ops carry their type here
                    events.append((e.offset_ps, e.offset_ps + e.duration_ps, md.name,
                                   md.display_name))
            events.sort()
            # Self-time: subtract ops nested inside another op on the same thread.
            stack = []
            for begin, end, name, kind in events:
                while stack and stack[-1][1] <= begin:
                    ops.append(stack.pop()[2:])
                if stack:
                    stack[-1][4] -= end - begin
                stack.append([begin, end, name, kind, end - begin])
            ops.extend(item[2:] for item in stack)
    return [(name, kind, self_ps / 1e12) for name, kind, self_ps in ops]


def op_category(name, kind):
    backward = "gradient_tape/" in name
    lowered = name.lower()
    if "adam/" in lowered or kind.startswith("ResourceApply"):
        return "optimizer update"
    if "Conv2D" in kind:
        if not backward:
            return ("transposed conv forward" if "BackpropInput" in kind
                    else "conv forward")
        if "BackpropFilter" in kind:
            return "conv/dconv backward: weight grads"
        if "BackpropInput" in kind:
            return "conv backward: input grads"
        return "transposed conv backward: input grads"
    if "MatMul" in kind:
        return "dense " + ("backward" if backward else "forward")
    if "/norm" in name:
        return "norm " + ("backward" if backward else "forward")
    if "random" in lowered:
        return "latent noise"
    return "other ops " + ("backward" if backward else "forward")


def summarize_profile(ops, wall, steps):
    total = sum(t for _, _, t in ops) or 1e-12
    by_cat, by_type, count = {}, {}, {}
    for name, kind, t in ops:
        cat = op_category(name, kind)
        by_cat[cat] = by_cat.get(cat, 0.0) + t
        by_type[kind] = by_type.get(kind, 0.0) + t
        count[kind] = count.get(kind, 0) + 1
    categories = [dict(category=c, ms=1e3 * t / steps, share=t / total)
                  for c, t in sorted(by_cat.items(), key=lambda kv: -kv[1])]
    op_types = [dict(op_type=k, ms=1e3 * t / steps, share=t / total, count=count[k] / steps)
                for k, t in sorted(by_type.items(), key=lambda kv: -kv[1])]
    return {"categories": categories, "op_types": op_types,
            "op_time_ms_per_step": 1e3 * total / steps,
            "op_time_over_wall": total / steps / wall}


# ---- main ---------------------------------------------------------------------
def metadata():
    import keras
    import tensorflow as tf

    from unit_tf import hardware

    cpu = hardware.cpu_info()
    return {
        "command": "python tools/benchmark.py " + " ".join(sys.argv[1:]),
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "python": platform.python_version(), "tensorflow": tf.__version__,
        "keras": keras.__version__, "cpu_count": os.cpu_count(),
        "cpu": cpu.model, "cpu_vendor": cpu.vendor, "cpu_family": cpu.family,
        "cpu_mhz": cpu.mhz, "simd_flags": cpu.simd, "machine": platform.machine(),
        "native_bf16": hardware.native_bf16(cpu.flags),
        "auto_precision": hardware.choose_precision(cpu.flags)[0],
        "theoretical_peak": hardware.theoretical_peak(cpu),
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "(default)"),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "experiment": FLAGS.experiment, "quick": FLAGS.quick,
        "loadavg_start": loadavg(),
        "note": ("Absolute figures ([abs]) are for this CPU only, not GPU figures; "
                 "ratios ([ratio]) are achieved FLOP/s over this machine's measured "
                 "matmul peak of the same precision (theoretical_peak is cores x "
                 "the reported clock x FMA width; boost clocks can exceed it). FLOPs: unit_tf.flops (conv and "
                 "dense MACs x2; norms, activations and elementwise ops not counted)."),
    }


def main(argv):
    del argv
    unknown = sorted(set(FLAGS.only) - set(SECTIONS))
    if unknown:
        raise app.UsageError(f"--only: unknown section(s) {unknown}; choose from {SECTIONS}.")
    bad = sorted(set(FLAGS.experiment) - set(EXPERIMENTS))
    if bad:
        raise app.UsageError(f"--experiment: unknown {bad}; choose from {EXPERIMENTS}.")
    bad = sorted(set(FLAGS.backends) - set(BACKENDS))
    if bad:
        raise app.UsageError(f"--backends: unknown {bad}; choose from {BACKENDS}.")
    import tensorflow as tf
    from absl import logging

    logging.set_verbosity(logging.WARNING)  # SavedModel/TFLite writers' INFO lines
    tf.get_logger().setLevel("ERROR")  # one tf.function per row is intended
    # Thread pools must be set before TensorFlow runs its first op.
    if FLAGS.intra_op_threads:
        tf.config.threading.set_intra_op_parallelism_threads(FLAGS.intra_op_threads)
    if FLAGS.inter_op_threads:
        tf.config.threading.set_inter_op_parallelism_threads(FLAGS.inter_op_threads)
    from unit_tf import hardware

    allocator = hardware.tune_allocator()  # as tools/train.py; UNIT_TF_ALLOCATOR=system: not
    s = settings()
    result = RESULT
    result.update(meta=dict(metadata(), allocator=allocator), settings=s)
    meta = result["meta"]
    print(f"CPU: {meta['cpu']} ({meta['cpu_vendor']}, family {meta['cpu_family']}), "
          f"{meta['cpu_count']} cores; {' '.join(meta['simd_flags'])}\n"
          f"Theoretical float32 peak: {meta['theoretical_peak']['fp32_gflops']} GFLOP/s "
          f"= {meta['theoretical_peak']['rule']}; auto precision: {meta['auto_precision']}\n"
          f"Allocator: {allocator}")
    write_json(FLAGS.out, result)
    peak = {}
    if "peak" in FLAGS.only or {"train", "pipeline", "reuse"} & set(FLAGS.only):
        if "peak" not in FLAGS.only:
            print("   (measuring the matmul peak for the ratios)")
        result["peak"] = run_peak(s)
        peak = result["peak"]["peak_gflops"]
        write_json(FLAGS.out, result)
    for section, run in (("train", lambda: run_train(s, peak)),
                         ("pipeline", lambda: run_pipeline(s, peak)),
                         ("reuse", lambda: run_reuse(s, peak)),
                         ("inference", lambda: run_inference(s)),
                         ("profile", lambda: run_profile(s))):
        if section in FLAGS.only:
            result[section] = run()
            write_json(FLAGS.out, result)
    result["meta"]["loadavg_end"] = loadavg()
    result.pop("rows_so_far", None)  # every row is in its section now
    write_json(FLAGS.out, result)
    print(f"\n[abs] = absolute, this 2-core CPU only (not GPU figures); [ratio] = "
          f"dimensionless. Load average {result['meta']['loadavg_start']} at start, "
          f"{result['meta']['loadavg_end']} at end (>{os.cpu_count()} means a shared, "
          f"noisy machine). Wrote {FLAGS.out}")


if __name__ == "__main__":
    import _cli  # tools/_cli.py: one-line errors (--traceback for the traceback)

    _cli.run(main)
