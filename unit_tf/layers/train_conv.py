"""Keras convolutions whose float32 training pass runs on faster oneDNN kernels.

Same maths as `keras.layers.Conv2D` / `Conv2DTranspose` (results equal up
to float rounding), two kernel choices of TensorFlow's oneDNN build changed
for the float32 train step (BUILD_NOTES.md, "Performance"):

* Forward: for a float32 batch of one image TensorFlow hands oneDNN the
  weights in their plain HWIO layout, which leaves it the im2col + GEMM
  convolution, about half as fast as its direct (brgemm) kernel. The same
  convolution written as a Conv3D of depth 1 gets the direct kernel.
* Weight gradient: oneDNN's AVX2 kernel for it ran at about a quarter of
  the machine's peak. It is one matrix product instead: the input's patches,
  transposed, times the output gradient (shifted views of the input for
  stride 1, `extract_patches` otherwise, which is faster for strides).
  Inputs with fewer than `MATMUL_MIN_CHANNELS` channels (the image layer)
  keep oneDNN's kernel, which is faster there.

They are used only on CPUs where they were measured faster
(`unit_tf.hardware.train_conv_kernels`: AVX-512); `ENABLED` holds this
CPU's answer, and a layer's `train_kernels` (None: `ENABLED`) overrides it.
Inference and non-float32 policies run the plain Keras layer, so exports
(SavedModel, TFLite) and mixed_bfloat16 training are unchanged. Square and
non-square kernels and strides, "same" and "valid" padding; dilation 1.
"""

import keras
import tensorflow as tf
from keras import ops

from unit_tf import hardware

# Whether this CPU's float32 train step takes the kernels below.
ENABLED = hardware.train_conv_kernels(hardware.cpu_info().flags)

# Below this many input channels the weight gradient stays oneDNN's: its
# first-layer kernel beats the matrix product there (AVX2, process CPU time:
# 3 channels 7x7 at 256x256, 32 vs 74 ms; 16 channels 3x3 stride 2, 2.0 vs 2.3 ms;
# 32 channels 3x3 stride 2, 6.2 vs 5.5 ms).
MATMUL_MIN_CHANNELS = 32


def _same_padding(size, kernel, stride):
    """(before, after) zero padding of TensorFlow's "SAME" along one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def filter_gradient(x, dy, kernel_size, strides, padding):
    """Gradient of conv2d(x, kernel) with respect to the kernel, as a matmul.

    Args:
        x: the convolution's input, [N, H, W, Ci].
        dy: the gradient of its output, [N, Ho, Wo, Co].
        kernel_size, strides: (height, width) pairs.
        padding: "same" or "valid".

    Returns:
        [kh, kw, Ci, Co], what `tf.raw_ops.Conv2DBackpropFilter` gives.
    """
    (kh, kw), (sh, sw) = kernel_size, strides
    if padding == "same":
        x = tf.pad(x, [[0, 0], _same_padding(x.shape[1], kh, sh),
                       _same_padding(x.shape[2], kw, sw), [0, 0]])
    ci, (ho, wo, co) = x.shape[-1], dy.shape[1:]
    dy = tf.reshape(dy, [-1, co])
    if (sh, sw) == (1, 1):
        # One product per kernel tap, on shifted views of the input.
        taps = [tf.linalg.matmul(tf.reshape(x[:, i:i + ho, j:j + wo], [-1, ci]), dy,
                                 transpose_a=True)
                for i in range(kh) for j in range(kw)]
        return tf.reshape(tf.stack(taps), [kh, kw, ci, co])
    patches = tf.image.extract_patches(x, [1, kh, kw, 1], [1, sh, sw, 1], [1, 1, 1, 1],
                                       "VALID")
    grad = tf.linalg.matmul(tf.reshape(patches, [-1, kh * kw * ci]), dy, transpose_a=True)
    return tf.reshape(grad, [kh, kw, ci, co])


def _forward(x, kernel, strides, padding):
    """conv2d as a depth-1 Conv3D (oneDNN's direct kernel, see module doc)."""
    y = tf.nn.conv3d(x[:, None], kernel[None], [1, 1, *strides, 1], padding.upper())
    return y[:, 0]


def _kernel_gradient(x, dy, kernel, strides, padding):
    if x.shape[-1] < MATMUL_MIN_CHANNELS:
        return tf.raw_ops.Conv2DBackpropFilter(
            input=x, filter_sizes=tf.shape(kernel), out_backprop=dy,
            strides=[1, *strides, 1], padding=padding.upper())
    return filter_gradient(x, dy, kernel.shape[:2], strides, padding)


def _gradient_scope():
    """A name scope for gradient ops as TensorFlow names its own:
    gradient_tape/<the forward op's scope>/ (profiles tell them apart by it)."""
    scope = tf.get_current_name_scope()
    return tf.name_scope(f"gradient_tape/{scope}/" if scope else "gradient_tape")


def conv2d(x, kernel, strides, padding):
    """`tf.nn.conv2d` (NHWC) with the forward and weight-gradient kernels above."""
    strides = tuple(strides)

    @tf.custom_gradient
    def run(x, kernel):
        scope = _gradient_scope()

        def grad(dy):
            with scope:
                dx = tf.raw_ops.Conv2DBackpropInput(
                    input_sizes=tf.shape(x), filter=kernel, out_backprop=dy,
                    strides=[1, *strides, 1], padding=padding.upper())
                return dx, _kernel_gradient(x, dy, kernel, strides, padding)
        return _forward(x, kernel, strides, padding), grad

    return run(x, kernel)


def conv2d_transpose(x, kernel, output_shape, strides, padding):
    """`tf.nn.conv2d_transpose` (NHWC); its gradients are those of conv2d(y, kernel)."""
    strides = tuple(strides)

    @tf.custom_gradient
    def run(x, kernel):
        scope = _gradient_scope()

        def grad(dy):
            # The transposed convolution is the adjoint of conv2d(., kernel).
            with scope:
                return (_forward(dy, kernel, strides, padding),
                        _kernel_gradient(dy, x, kernel, strides, padding))
        y = tf.nn.conv2d_transpose(x, kernel, output_shape, [1, *strides, 1],
                                   padding.upper())
        return y, grad

    return run(x, kernel)


def _use_train_kernels(layer, inputs, training):
    enabled = ENABLED if layer.train_kernels is None else layer.train_kernels
    return bool(enabled and training and layer.compute_dtype == "float32"
                and layer.data_format == "channels_last" and getattr(layer, "groups", 1) == 1
                and tuple(layer.dilation_rate) == (1, 1) and None not in inputs.shape[1:])


def _bias_and_activation(layer, outputs):
    if layer.use_bias:
        outputs = ops.add(outputs, layer.bias)
    return layer.activation(outputs) if layer.activation is not None else outputs


@keras.saving.register_keras_serializable(package="unit_tf")
class TrainConv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D` with the float32 training kernels of this module.

    While training under a float32 policy (channels last, dilation 1, static
    image size) on a CPU where they pay off (`ENABLED`) it runs `conv2d`
    above; otherwise it is Keras' layer. Weights and config are Keras' own.
    """

    train_kernels = None  # None: ENABLED; True / False force them on / off

    def call(self, inputs, training=None):
        if not _use_train_kernels(self, inputs, training):
            return super().call(inputs)
        outputs = conv2d(inputs, tf.convert_to_tensor(self.kernel), self.strides,
                         self.padding)
        return _bias_and_activation(self, outputs)


@keras.saving.register_keras_serializable(package="unit_tf")
class TrainConv2DTranspose(keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` with the float32 training kernels of this module.

    As `TrainConv2D`; a layer with `output_padding` set is Keras' layer throughout.
    """

    train_kernels = None  # None: ENABLED; True / False force them on / off

    def call(self, inputs, training=None):
        if not _use_train_kernels(self, inputs, training) or self.output_padding is not None:
            return super().call(inputs)
        batch = tf.shape(inputs)[0]
        _, height, width, _ = self.compute_output_shape(inputs.shape)
        outputs = conv2d_transpose(inputs, tf.convert_to_tensor(self.kernel),
                                   (batch, height, width, self.filters), self.strides,
                                   self.padding)
        return _bias_and_activation(self, outputs)
