import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

import unit_tf
from unit_tf.layers import ConvBlock, train_conv
from unit_tf.layers.train_conv import TrainConv2D, TrainConv2DTranspose

RNG = np.random.RandomState(0)


@pytest.fixture(autouse=True)
def train_kernels_on(monkeypatch):
    """The kernels under test, whatever this CPU's rule picks (ENABLED)."""
    monkeypatch.setattr(train_conv, "ENABLED", True)


def outputs_and_gradients(layer, x, training):
    """The layer's output and the gradients of a non-linear loss of it."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=training)
        loss = tf.reduce_sum(y * tf.cos(y))
    return [y, *tape.gradient(loss, [x, *layer.trainable_variables])]


# Kernel 1, 3, 4 (even), strides 1 and 2, both paddings, each case with one of
# (batch, input channels): the matmul weight gradient at batch 1 and 2, and
# oneDNN's below MATMUL_MIN_CHANNELS.
BATCH_CHANNELS = ((1, 40), (2, 36), (1, 3))
# A 1x1 kernel at stride 2 is left out: TensorFlow's oneDNN Conv2DBackpropFilter
# for it (the reference gradient, Keras' own layer) crashes the process at
# random (segfault, abort, or "could not create a primitive descriptor for the
# reorder primitive"; BUILD_NOTES.md). No preset has such a layer.
CASES = [(*case, *BATCH_CHANNELS[i % len(BATCH_CHANNELS)]) for i, case in enumerate(
    (cls, kernel, stride, padding) for cls, kernel, stride, padding in itertools.product(
        (TrainConv2D, TrainConv2DTranspose), (1, 3, 4), (1, 2), ("same", "valid"))
    if (kernel, stride) != (1, 2))]


@pytest.mark.parametrize("cls, kernel, stride, padding, batch, channels", CASES)
def test_training_kernels_give_keras_results(cls, kernel, stride, padding, batch, channels):
    # A transposed layer's weight gradient reads its output gradient as the
    # convolution's input: wide outputs take the matmul path there.
    filters = 33 if cls is TrainConv2DTranspose and channels > 3 else 5
    layer = cls(filters, kernel, strides=stride, padding=padding)
    size = 9 if cls is TrainConv2D else 5
    x = tf.constant(RNG.randn(batch, size, size, channels).astype("float32"))
    layer.build(x.shape)
    layer.bias.assign(RNG.randn(filters).astype("float32"))
    ours = outputs_and_gradients(layer, x, training=True)
    keras_ = outputs_and_gradients(layer, x, training=False)  # Keras' layer as is
    assert len(ours) == 4  # y, dx, kernel, bias
    for a, b in zip(ours, keras_):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5,
                                   atol=1e-5 * np.abs(b.numpy()).max())


def test_non_square_input_kernel_and_stride():
    layer = TrainConv2D(4, (3, 2), strides=(2, 1), padding="same")
    x = tf.constant(RNG.randn(1, 7, 6, 32).astype("float32"))
    layer.build(x.shape)
    for a, b in zip(outputs_and_gradients(layer, x, True), outputs_and_gradients(layer, x, False)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-4)


def graph_ops(fn, *args):
    return {op.type for op in tf.function(fn).get_concrete_function(*args).graph.get_operations()}


def test_training_kernels_only_while_training_in_float32():
    x = tf.TensorSpec((1, 8, 8, 32), tf.float32)
    layer = TrainConv2D(8, 3)
    layer.build(x.shape)
    assert "Conv3D" in graph_ops(lambda v: layer(v, training=True), x)
    assert "Conv3D" not in graph_ops(lambda v: layer(v, training=False), x)
    bf16 = TrainConv2D(8, 3, dtype="mixed_bfloat16")
    bf16.build(x.shape)
    assert "Conv3D" not in graph_ops(lambda v: bf16(v, training=True), x)
    # An unknown image size keeps Keras' kernels.
    free = tf.TensorSpec((1, None, None, 32), tf.float32)
    assert "Conv3D" not in graph_ops(lambda v: layer(v, training=True), free)


def test_training_kernels_follow_the_cpu_rule_unless_forced(monkeypatch):
    x = tf.TensorSpec((1, 8, 8, 32), tf.float32)
    layer = TrainConv2D(8, 3)
    layer.build(x.shape)
    monkeypatch.setattr(train_conv, "ENABLED", False)  # a CPU without AVX-512
    assert "Conv3D" not in graph_ops(lambda v: layer(v, training=True), x)
    layer.train_kernels = True
    assert "Conv3D" in graph_ops(lambda v: layer(v, training=True), x)
    monkeypatch.setattr(train_conv, "ENABLED", True)
    layer.train_kernels = False
    assert "Conv3D" not in graph_ops(lambda v: layer(v, training=True), x)


def test_conv_block_keeps_keras_weights_and_config():
    block = ConvBlock(6, 3, 2, norm="none", name="block")
    block(np.zeros((1, 8, 8, 4), "float32"))
    assert isinstance(block.conv, keras.layers.Conv2D)
    assert [w.path for w in block.weights] == ["block/conv/kernel", "block/conv/bias"]
    assert "TrainConv2D" not in str(block.get_config())


def test_unit_train_step_matches_keras_convolutions(monkeypatch):
    """Two float32 UNIT steps with the training kernels and with Keras' ones."""
    x = tuple(tf.constant(RNG.uniform(-1, 1, (1, 16, 16, 3)).astype("float32"))
              for _ in range(2))

    def two_steps():
        keras.utils.set_random_seed(0)
        model = unit_tf.UNIT("tiny", seed=0)
        model.compile()
        step = tf.function(model.train_step_losses)
        losses = [{k: float(v) for k, v in step(x).items()} for _ in range(2)]
        return losses, [v.numpy() for v in model.trainable_variables]

    ours, ours_weights = two_steps()
    monkeypatch.setattr(train_conv, "ENABLED", False)
    keras_, keras_weights = two_steps()
    for a, b in zip(ours, keras_):
        assert a.keys() == b.keys()
        for name in a:
            assert a[name] == pytest.approx(b[name], rel=1e-4, abs=1e-6), name
    assert len(ours_weights) == len(keras_weights)
    for a, b in zip(ours_weights, keras_weights):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("channels, weight_grad_op", [(32, "MatMul"), (3, "Conv2DBackpropFilter")])
def test_weight_gradient_kernel_by_input_channels(channels, weight_grad_op):
    layer = TrainConv2D(8, 3, strides=2, padding="same")
    spec = tf.TensorSpec((1, 8, 8, channels), tf.float32)
    layer.build(spec.shape)

    def gradient(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x, training=True))
        return tape.gradient(loss, layer.kernel)

    ops_ = graph_ops(gradient, spec)
    assert weight_grad_op in ops_
    other = "Conv2DBackpropFilter" if weight_grad_op == "MatMul" else "MatMul"
    assert other not in ops_
