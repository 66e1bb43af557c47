"""Adam with coupled L2 weight decay, as PyTorch's `Adam(weight_decay=...)`."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="unit_tf")
class AdamL2(keras.optimizers.Adam):
    """Adam whose gradient gets `l2 * w` added before the moment updates.

    This is the coupled L2 penalty of PyTorch's `torch.optim.Adam(weight_decay=l2)`,
    the gradient of `0.5 * l2 * ||w||^2`, so the decay passes through Adam's
    normalisation. Keras' own `weight_decay` argument is the decoupled (AdamW)
    form, `w -= lr * wd * w` beside the Adam step, which is a different
    optimizer. The penalty is added after gradients are aggregated across
    replicas, so it counts once under tf.distribute.

    Args:
        l2: the decay coefficient (the authors' adaptation trainer: 5e-4).
        **kwargs: Adam's arguments (learning_rate, beta_1, beta_2, ...).

    Examples:
        >>> opt = AdamL2(2e-4, beta_1=0.5, beta_2=0.999, l2=5e-4)
    """

    def __init__(self, learning_rate=0.001, l2=0.0, name="adam_l2", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not l2 >= 0:
            raise ValueError(f"AdamL2: l2 must be at least 0, got {l2!r}.")
        self.l2 = float(l2)

    def update_step(self, gradient, variable, learning_rate):
        gradient = ops.cast(gradient, variable.dtype)
        gradient = gradient + ops.cast(self.l2, variable.dtype) * variable
        super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {**super().get_config(), "l2": self.l2}


def adam(learning_rate, l2=0.0, name="adam"):
    """Adam(learning_rate, 0.5, 0.999), with coupled L2 decay when `l2` > 0."""
    if l2:
        return AdamL2(learning_rate, beta_1=0.5, beta_2=0.999, l2=l2, name=name)
    return keras.optimizers.Adam(learning_rate, 0.5, 0.999, name=name)
