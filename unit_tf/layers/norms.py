"""Normalisation and activation factories shared by the blocks."""

import keras
from keras import ops

NORMS = ("none", "batch", "instance")
ACTIVATIONS = ("none", "relu", "lrelu", "tanh", "sigmoid", "softplus")


def make_norm(norm, name):
    """Returns the normalisation layer for `norm`, or None for "none".

    Instance norm has no affine parameters, as in the paper's code.
    """
    if norm == "none":
        return None
    if norm == "batch":
        return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name)
    if norm == "instance":
        return InstanceNormalization(epsilon=1e-5, name=name)
    raise ValueError(f"Unknown norm {norm!r}; expected one of {NORMS}.")


def make_activation(activation, leaky_slope, name):
    """Returns the activation layer for `activation`, or None for "none"."""
    if activation == "none":
        return None
    if activation == "lrelu":
        return keras.layers.LeakyReLU(negative_slope=leaky_slope, name=name)
    if activation in ("relu", "tanh", "sigmoid", "softplus"):
        return keras.layers.Activation(activation, name=name)
    raise ValueError(
        f"Unknown activation {activation!r}; expected one of {ACTIVATIONS}.")


@keras.saving.register_keras_serializable(package="unit_tf")
class InstanceNormalization(keras.layers.Layer):
    """Instance normalisation without affine parameters (channels last).

    Normalises each image and channel over its spatial axes:
    y = (x - mean) / sqrt(var + epsilon). The statistics are computed in
    float32 under mixed precision. Same output as Keras'
    `GroupNormalization(groups=-1, center=False, scale=False)`, but without its
    reshape into groups: the graph is two means and elementwise ops, which
    TFLite's XNNPACK delegate runs whole (the grouped form, with its reshapes,
    is left to the slower reference kernels). tensorflow-addons'
    InstanceNormalization cannot be imported with Keras 3.

    Args:
        epsilon: added to the variance.

    Examples:
        >>> y = InstanceNormalization()(np.random.rand(2, 8, 8, 3).astype("float32"))
        >>> np.allclose(np.mean(y, axis=(1, 2)), 0, atol=1e-5)
        True
    """

    def __init__(self, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(f"{self.name}: instance norm needs [batch, spatial..., channels] "
                             f"inputs, got shape {tuple(input_shape)}.")
        self._axes = tuple(range(1, len(input_shape) - 1))

    def call(self, x):
        x = ops.cast(x, "float32")
        mean, variance = ops.moments(x, axes=self._axes, keepdims=True)
        inv = ops.rsqrt(variance + self.epsilon)
        return ops.cast(x * inv - mean * inv, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
