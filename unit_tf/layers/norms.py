"""Normalisation and activation factories shared by the blocks."""

import keras

NORMS = ("none", "batch", "instance")
ACTIVATIONS = ("none", "relu", "lrelu", "tanh", "sigmoid", "softplus")


def make_norm(norm, name):
    """Returns the normalisation layer for `norm`, or None for "none".

    Instance norm is GroupNormalization with one group per channel and no
    affine parameters, as in the paper's code (tensorflow-addons'
    InstanceNormalization cannot be imported with Keras 3).
    """
    if norm == "none":
        return None
    if norm == "batch":
        return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name)
    if norm == "instance":
        return keras.layers.GroupNormalization(
            groups=-1, epsilon=1e-5, center=False, scale=False, name=name)
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
