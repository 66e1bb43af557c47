"""Runs a few training steps under a tf.distribute strategy; prints a weights digest.

Used by tests/test_distributed.py as a subprocess (device setup must precede
TensorFlow's initialisation). The latent noise is switched off so that runs
with different replica counts see identical computations.

    distributed_script.py multi_worker OUT            Adam, 4 steps, a decaying rate
    distributed_script.py mirrored_vs_default OUT N   SGD, N steps, 2 CPU replicas vs 1 device

The comparison uses plain SGD: its update is the learning rate times the
all-reduced gradient, so a difference in the weights is a difference in the
gradients. Adam's first steps are close to sign(gradient) steps, which turn
float rounding noise in near-zero gradients into full-size steps and hide a
wrong gradient scale (BUILD_NOTES, "Distributed training").
"""

import json
import sys

from unit_tf.training import LinearDecay, Trainer, make_strategy

mode, out = sys.argv[1], sys.argv[2]
strategy = (make_strategy("mirrored", cpu_devices=2) if mode == "mirrored_vs_default"
            else make_strategy(mode))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import unit_tf  # noqa: E402
from unit_tf.layers import GaussianLatent  # noqa: E402

_call = GaussianLatent.call
GaussianLatent.call = lambda self, x, training=None: _call(self, x, training=False)

rng = np.random.RandomState(0)
XA = rng.uniform(-1, 1, (16, 16, 16, 3)).astype("float32")
XB = rng.uniform(-1, 1, (16, 16, 16, 3)).astype("float32")


def build_model(optimizer="adam"):
    keras.utils.set_random_seed(0)
    model = unit_tf.UNIT("tiny", seed=0)
    make = {"adam": lambda: keras.optimizers.Adam(1e-3, 0.5, 0.999),
            "sgd": lambda: keras.optimizers.SGD(1e-3)}[optimizer]
    model.compile(g_optimizer=make(), d_optimizer=make())
    return model


def run(strategy, folder, steps=4, optimizer="adam"):
    ds = tf.data.Dataset.from_tensor_slices((XA, XB)).repeat().batch(4, drop_remainder=True)
    decay = LinearDecay(1e-3, 2, 6) if steps == 4 else None
    trainer = Trainer(lambda: build_model(optimizer), ds, folder, strategy=strategy,
                      log_every=2, sample_every=0, checkpoint_every=4, learning_rate=decay)
    trainer.train(steps)
    if decay is not None:
        assert abs(trainer.current_learning_rate() - 7.5e-4) < 1e-9  # step 3: 3/4 of 1e-3
    weights = [np.asarray(w) for w in trainer.model.get_weights()]
    trainer.finish()
    return weights


if mode == "mirrored_vs_default":
    steps = int(sys.argv[3])
    single = run(tf.distribute.get_strategy(), out + "/single", steps, "sgd")
    mirrored = run(strategy, out + "/mirrored", steps, "sgd")
    initial = build_model("sgd").get_weights()
    diff = max(float(np.abs(a - b).max()) for a, b in zip(single, mirrored))
    moved = max(float(np.abs(a - b).max()) for a, b in zip(single, initial))
    print(json.dumps({"replicas": strategy.num_replicas_in_sync, "max_diff": diff,
                      "moved": moved}))
else:
    weights = run(strategy, out)
    print(json.dumps({"replicas": strategy.num_replicas_in_sync,
                      "digest": float(sum(np.abs(w).sum() for w in weights))}))
