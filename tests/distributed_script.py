"""Runs a few training steps under a tf.distribute strategy; prints a weights digest.

Used by tests/test_distributed.py as a subprocess (device setup must precede
TensorFlow's initialisation). The latent noise is switched off so that runs
with different replica counts see identical computations. The learning rate
decays from step 2, so the schedule runs under each strategy too.
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


def build_model():
    keras.utils.set_random_seed(0)
    model = unit_tf.UNIT("tiny", seed=0)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3, 0.5, 0.999),
                  d_optimizer=keras.optimizers.Adam(1e-3, 0.5, 0.999))
    return model


def run(strategy, folder):
    ds = tf.data.Dataset.from_tensor_slices((XA, XB)).repeat().batch(4, drop_remainder=True)
    trainer = Trainer(build_model, ds, folder, strategy=strategy, log_every=2,
                      sample_every=0, checkpoint_every=4, learning_rate=LinearDecay(1e-3, 2, 6))
    trainer.train(4)
    assert abs(trainer.current_learning_rate() - 7.5e-4) < 1e-9  # step 3: 3/4 of 1e-3
    weights = [np.asarray(w) for w in trainer.model.get_weights()]
    trainer.finish()
    return weights


if mode == "mirrored_vs_default":
    single = run(tf.distribute.get_strategy(), out + "/single")
    mirrored = run(strategy, out + "/mirrored")
    diff = max(float(np.abs(a - b).max()) for a, b in zip(single, mirrored))
    moved = max(float(np.abs(a - b).max()) for a, b in zip(single, build_model().get_weights()))
    print(json.dumps({"replicas": strategy.num_replicas_in_sync, "max_diff": diff,
                      "moved": moved}))
else:
    weights = run(strategy, out)
    print(json.dumps({"replicas": strategy.num_replicas_in_sync,
                      "digest": float(sum(np.abs(w).sum() for w in weights))}))
