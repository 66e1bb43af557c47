"""Train UNIT on two unpaired image domains.

Usage:
    # The arXiv v1 toy study on the embedded MNIST sample (the README's main job):
    # 1500 iterations, sample grids, and the toy-digits metric at the end.
    python tools/train.py --preset digits
    # The paper's budget: 10K iterations (continues a finished 1500-step run).
    python tools/train.py --preset digits --steps 10000

    # Satellite <-> map with the paper's protocol, reduced-width Table 3 net.
    python tools/train.py --preset nips_translation_lite \
        --data maps:../shared/data/maps --image_size 256 --steps 20000 --out runs/maps

    # Your own folders; ablations and loss weights from the command line.
    python tools/train.py --preset nips_translation --data folders:cats/,dogs/ \
        --shared_encoder 2 --lambda0 1 --no_cycle_consistency

    # The no-adaptation baseline of an adaptation preset: D_a's trunk and the
    # class head trained on the labelled source digits alone.
    python tools/train.py --preset lenet --source_only --steps 2000 --out runs/source_only

    # MNIST -> MNIST-M (RGB target) with the authors' adaptation objective.
    python tools/train.py --preset lenet --recipe authors --channels_a 3 --channels_b 3 \
        --data mnist_m --steps 10000 --out runs/mnist2mnistm

Training resumes from the newest checkpoint in --out (weights, both
optimizers, step, data order and noise state) unless --noresume.
Checkpoints are written every --checkpoint_every steps, every
--checkpoint_minutes, and on Ctrl-C (SIGINT) or SIGTERM: training stops at
the next step boundary (within seconds), saves, says where, and exits with
130 (SIGINT) or 143 (SIGTERM); a second signal quits without saving. The
newest two checkpoints are kept, and with --keep_checkpoint_every N also
every one whose step is a multiple of N.
Outputs in --out: checkpoints/, samples/ (sample-grid PNGs), tensorboard/,
and at the end model.keras, train_config.json and, for mnist_toy data,
eval_digits.json (the toy-digits metric of tools/evaluate.py --task digits).
Bad input ends with one `error:` line (--traceback for the traceback).
"""

import os
import signal
import sys
import time

from absl import app, flags

TOOLS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(TOOLS, ".."))
sys.path.insert(0, TOOLS)

import _model_flags  # noqa: E402  the preset's fields and UNIT's ablations, as flags

FLAGS = flags.FLAGS
flags.adopt_module_key_flags(_model_flags)  # listed by --helpshort
flags.DEFINE_string("preset", "digits", "Architecture preset (see unit_tf.PRESETS).")
flags.DEFINE_string("data", None, "Data spec; default: the preset's (mnist_toy for digits, "
                    "mnist_uci for lenet/svhn, mnist_m for lenet_spatial). See README 'Data'.")
flags.DEFINE_integer("steps", None, "Total training iterations (one D and one E/G step "
                     "each); default: 1500 for digits (the paper's 10K: --steps 10000), "
                     "else 10000.", lower_bound=1)
flags.DEFINE_integer("batch_size", None, "Global batch size; default: the preset's.",
                     lower_bound=1)
flags.DEFINE_string("out", None, "Output folder; default runs/<preset>.")
flags.DEFINE_enum("mixed_precision", "auto", ["auto", "float32", "mixed_bfloat16"],
                  "Compute precision; auto = mixed_bfloat16 on CPUs with native bfloat16 "
                  "(AVX512_BF16 or AMX-BF16), float32 on other CPUs and on GPU. Losses are "
                  "always float32.")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multi_worker"],
                  "tf.distribute strategy; multi_worker reads TF_CONFIG.")
flags.DEFINE_integer("cpu_devices", 0, "Split the CPU into this many logical devices "
                     "(to run --strategy mirrored without GPUs).", lower_bound=0)
flags.DEFINE_integer("image_size", None, "Training size (square); default: the preset's.",
                     lower_bound=1)
flags.DEFINE_integer("load_size", None, "Resize to this size, then random-crop image_size.",
                     lower_bound=1)
flags.DEFINE_bool("flip", False, "Random horizontal flips.")
flags.DEFINE_string("recipe", None, "Adaptation presets: the objective, unit_tf (the presets' "
                    "own) or authors (the authors' adaptation trainer); flags below override "
                    "its fields. See README 'Adaptation recipes'.")
flags.DEFINE_integer("lr_decay_start", None, "Hold the learning rate until this step, then "
                     "decay it linearly to 0 at --steps (the paper keeps it constant).")
flags.DEFINE_bool("source_only", False, "Adaptation presets: train only the source-domain "
                  "classifier (D_a's trunk and class head on source labels), the no-adaptation "
                  "baseline; writes model.keras (no checkpoints).")
flags.DEFINE_integer("seed", 0, "Seed of the initial weights, the data order and the noise.")
flags.DEFINE_integer("log_every", 50, "Steps between progress lines, and the most steps per "
                     "tf.function call (a call is also capped at about 2 s of work).",
                     lower_bound=1)
flags.DEFINE_integer("sample_every", 500, "Write a sample grid every N steps (0: only at the "
                     "end).", lower_bound=0)
flags.DEFINE_integer("checkpoint_every", 1000, "Checkpoint every N steps (0: only by time, "
                     "on a stop signal and at the end).", lower_bound=0)
flags.DEFINE_integer("keep_checkpoint_every", 0, "Keep every checkpoint whose step is a "
                     "multiple of N (the newest two are kept regardless), to score a long run "
                     "along the way from checkpoints/ckpt-STEP/model.keras (0: none).",
                     lower_bound=0)
flags.DEFINE_float("checkpoint_minutes", 10.0, "Also checkpoint every this many minutes of "
                   "wall time (0: never by time).", lower_bound=0.0)
flags.DEFINE_bool("resume", True, "Resume from the newest checkpoint in --out.")
flags.DEFINE_bool("eval", True, "mnist_toy data: after training, score the toy-digits metric "
                  "(tools/evaluate.py --task digits) and write eval_digits.json.")

DEFAULT_DATA = {"digits": "mnist_toy", "tiny": "mnist_toy", "lenet": "mnist_uci",
                "lenet_spatial": "mnist_m", "svhn": "mnist_uci"}
# Default --steps. The paper trains 10K iterations (arXiv v1 toy study). For
# digits the default is a 1500-iteration run, so the README's main job ends
# with sample grids and its metric in about half an hour on a 2-core AVX2 CPU
# (float32, 0.84 it/s); --steps 10000 is the paper's budget.
DEFAULT_STEPS = {"digits": 1500}
PAPER_STEPS = 10000


def preset_overrides():
    overrides = _model_flags.preset_overrides()
    for name in ("image_size", "batch_size"):
        if getattr(FLAGS, name) is not None:
            overrides[name] = getattr(FLAGS, name)
    return overrides


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    from unit_tf.fileio import atomic_save_keras, atomic_write_json, check_writable_folder
    from unit_tf.training import (LinearDecay, NonFiniteLossError, StopOnSignals, Trainer,
                                  make_strategy)
    strategy = make_strategy(FLAGS.strategy, FLAGS.cpu_devices)

    import keras
    import tensorflow as tf
    import unit_tf
    from unit_tf import data as unit_data
    from unit_tf import hardware
    from unit_tf.training import first_batch

    preset = unit_tf.get_preset(FLAGS.preset, FLAGS.recipe, **preset_overrides())
    spec = FLAGS.data or DEFAULT_DATA.get(preset.name)
    if spec is None:
        raise app.UsageError(f"--data is required for preset {preset.name!r} "
                             "(e.g. --data maps:../shared/data/maps).")
    steps = FLAGS.steps or DEFAULT_STEPS.get(preset.name, PAPER_STEPS)
    out = FLAGS.out or os.path.join("runs", preset.name)
    schedule = None
    if FLAGS.lr_decay_start is not None:
        if not 0 <= FLAGS.lr_decay_start < steps:
            raise app.UsageError(f"--lr_decay_start ({FLAGS.lr_decay_start}) must be at "
                                 f"least 0 and below --steps ({steps}).")
        schedule = LinearDecay(preset.learning_rate, FLAGS.lr_decay_start, steps)
    # Checked now, created only once the data and the model have loaded.
    check_writable_folder(out)

    cpu = hardware.cpu_info()
    precision, why = FLAGS.mixed_precision, "set by --mixed_precision"
    if precision == "auto":
        precision, why = hardware.choose_precision(
            cpu.flags, has_gpu=bool(tf.config.list_physical_devices("GPU")))
    print(f"Precision {precision}: {why}. CPU: {hardware.describe(cpu)}")
    allocator = hardware.tune_allocator()
    print(f"Allocator: {allocator}")
    precision_record = {"precision": precision, "precision_reason": why,
                        "cpu": hardware.describe(cpu), "allocator": allocator}
    keras.mixed_precision.set_global_policy(precision)
    keras.utils.set_random_seed(FLAGS.seed)

    dataset = unit_data.make_dataset(
        spec, image_size=preset.image_size, batch_size=preset.batch_size,
        channels=(preset.channels_a, preset.channels_b), seed=FLAGS.seed,
        random_crop=FLAGS.load_size is not None, resize_to=FLAGS.load_size, flip=FLAGS.flip)
    names = unit_data.domain_names(spec)
    if FLAGS.source_only:
        return train_source_only(preset, spec, dataset, out, precision_record, steps)

    def build_model():
        model = unit_tf.UNIT(preset, **_model_flags.unit_options(), seed=FLAGS.seed,
                             domain_names=names)
        model.compile()
        return model

    trainer = Trainer(build_model, dataset, out, strategy=strategy,
                      sample_batch=first_batch(dataset, 8), log_every=FLAGS.log_every,
                      sample_every=FLAGS.sample_every,
                      checkpoint_every=FLAGS.checkpoint_every,
                      keep_every=FLAGS.keep_checkpoint_every,
                      checkpoint_seconds=FLAGS.checkpoint_minutes * 60 or None,
                      learning_rate=schedule)
    checkpoints = os.path.join(out, "checkpoints")
    if not FLAGS.resume:
        print(f"--noresume: starting at step 0 (not reading {checkpoints}).")
    elif trainer.restore():
        print(f"Resumed from step {trainer.step} ({trainer.latest_checkpoint()}).")
    else:
        print(f"No checkpoint in {checkpoints}, starting at step 0.")
    start = time.time()
    print(f"Training {preset.name} on {spec} ({names[0]} <-> {names[1]}), "
          f"{steps} steps, batch {preset.batch_size}, {precision}, "
          f"{strategy.num_replicas_in_sync} replica(s); output in {out}", flush=True)
    try:
        with StopOnSignals() as stop:
            logs = trainer.train(steps, log=lambda line: print(line, flush=True), stop=stop)
            if stop.requested and trainer.step < steps:
                path = trainer.checkpoint()
                trainer.writer.flush()
                name = signal.Signals(stop.requested).name
                print(f"{name}: stopped at step {trainer.step} of {steps}; checkpoint "
                      f"{path}. Rerun the same command to resume.", flush=True)
                trainer.finish()
                return 128 + stop.requested
    except NonFiniteLossError as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    if trainer.chief:
        trainer.checkpoint()
        trainer.write_samples()
        final = os.path.join(out, "model.keras")
        atomic_save_keras(trainer.model, final)
        config = {"command": "python tools/train.py " + " ".join(sys.argv[1:]),
                  "preset": preset.to_dict(), "data": spec, "domains": list(names),
                  "steps": trainer.step, **precision_record,
                  "learning_rate": schedule.get_config() if schedule else preset.learning_rate,
                  "replicas": strategy.num_replicas_in_sync,
                  "wall_time_s": round(trainer.elapsed, 1),
                  "wall_time_s_this_run": round(time.time() - start, 1),
                  "final_losses": {k: float(v) for k, v in logs.items()}}
        atomic_write_json(os.path.join(out, "train_config.json"), config)
        print(f"Saved {final} and samples in {os.path.join(out, 'samples')}")
        if FLAGS.eval and spec == "mnist_toy":
            evaluate_toy_digits(final, out)
    trainer.finish()
    return 0


def evaluate_toy_digits(model_path, out):
    """Scores a finished mnist_toy run as `tools/evaluate.py --task digits` does."""
    import evaluate  # tools/evaluate.py, beside this script

    json_path = os.path.join(out, "eval_digits.json")
    command = f"python tools/evaluate.py --task digits --model {model_path} --out {json_path}"
    evaluate.print_table(evaluate.run("digits", model_path, "mnist_toy", json_path,
                                      command=command))
    print(f"wrote {json_path}")


def train_source_only(preset, spec, dataset, out, precision_record, steps):
    """Fits `SourceOnlyClassifier` on the source images and labels of `dataset`."""
    import unit_tf
    from unit_tf.fileio import atomic_save_keras, atomic_write_json

    if not preset.num_classes:
        raise app.UsageError(f"--source_only needs an adaptation preset (lenet, svhn); "
                             f"{preset.name!r} has no class head.")
    if dataset.element_spec[-1].shape.rank != 1:
        raise app.UsageError(f"--source_only needs labelled source images; --data {spec} "
                             "has none (use mnist_uci or another labelled spec).")
    source = dataset.map(lambda x_a, x_b, labels_a: (x_a, labels_a))
    classifier = unit_tf.SourceOnlyClassifier(preset)
    classifier.compile()
    print(f"Training the source-only classifier of {preset.name} on the labelled source "
          f"images of {spec}, {steps} steps, batch {preset.batch_size}, "
          f"{precision_record['precision']}; "
          f"output in {out}")
    start = time.time()
    # The dataset is shuffled already (seeded by --seed).
    history = classifier.fit(source, steps_per_epoch=steps, epochs=1, verbose=2,
                             shuffle=False)
    final = os.path.join(out, "model.keras")
    atomic_save_keras(classifier, final)
    atomic_write_json(os.path.join(out, "train_config.json"), {
        "command": "python tools/train.py " + " ".join(sys.argv[1:]),
        "model": "SourceOnlyClassifier", "preset": preset.to_dict(), "data": spec,
        "steps": steps, **precision_record, "seed": FLAGS.seed,
        "wall_time_s": round(time.time() - start, 1),
        "final_losses": {k: float(v[-1]) for k, v in history.history.items()}})
    print(f"Saved {final}")
    return 0


if __name__ == "__main__":
    import _cli  # tools/_cli.py: one-line errors

    _cli.run(main)
