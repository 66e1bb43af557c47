"""The authors' weight initialisation for the adaptation networks.

mingyuliutw/UNIT (branch version_02), src/trainers/init.py, applied in
cocogan_trainer_da.py: every convolution of the discriminator gets
`xavier_uniform(gain=sqrt(2))` weights and biases of 0.1; every convolution
of the encoders and generators gets N(0, 0.02) weights. Their discriminator
heads are convolutions; ours are Dense layers, so Dense layers are treated
as convolutions. Biases of E/G layers stay at Keras' zeros (most of theirs
sit before a batch norm, which cancels them).
"""

import keras

_WEIGHTED = (keras.layers.Conv2D, keras.layers.Conv2DTranspose, keras.layers.Dense)


def weighted_layers(*roots):
    """Convolution and Dense layers inside `roots`, each once."""
    found = {}
    for root in roots:
        for layer in root._flatten_layers(include_self=True, recursive=True):
            if isinstance(layer, _WEIGHTED):
                found.setdefault(id(layer), layer)
    return list(found.values())


def reinitialize(layers, kernel_initializer, bias=None):
    """Assigns new kernels drawn from `kernel_initializer` (and a constant bias)."""
    for layer in layers:
        layer.kernel.assign(kernel_initializer(layer.kernel.shape, layer.kernel.dtype))
        if bias is not None and layer.bias is not None:
            layer.bias.assign(keras.ops.full(layer.bias.shape, bias, layer.bias.dtype))


def _seeds(seed):
    # A generator, not an int: an int-seeded Keras initializer draws the same
    # values on every call, so layers of one shape would start identical.
    return keras.random.SeedGenerator(seed)


def discriminator_init(*roots, seed=None):
    """xavier_uniform with gain sqrt(2) (variance x 2) and bias 0.1 (the authors' D)."""
    reinitialize(weighted_layers(*roots),
                 keras.initializers.VarianceScaling(2.0, "fan_avg", "uniform",
                                                    seed=_seeds(seed)), bias=0.1)


def generator_init(*roots, seed=None):
    """N(0, 0.02) kernels (the authors' encoders and generators)."""
    reinitialize(weighted_layers(*roots),
                 keras.initializers.RandomNormal(0.0, 0.02, seed=_seeds(seed)))
