"""The authors' initialisation: Xavier x sqrt(2) and bias 0.1 for D, N(0, 0.02) for E/G."""

import numpy as np
from keras import ops

import unit_tf
from unit_tf.networks.initialization import weighted_layers


def numpy_of(x):
    return np.asarray(ops.convert_to_numpy(x))


def test_authors_initialization_of_every_network():
    model = unit_tf.UNIT("lenet", recipe="authors", seed=0)
    for layer in weighted_layers(model.encoder, model.generator):
        assert abs(numpy_of(layer.kernel).std() - 0.02) < 0.004, layer.name
    d_layers = weighted_layers(*model.discriminators, model.class_head_a)
    assert len(d_layers) == 5 + 1    # conv, conv, FC-500, real/fake (both branches), class
    for layer in d_layers:
        kernel = numpy_of(layer.kernel)
        receptive = int(np.prod(kernel.shape[:-2])) if kernel.ndim > 2 else 1
        fan_in, fan_out = receptive * kernel.shape[-2], receptive * kernel.shape[-1]
        # xavier_uniform(gain=sqrt(2)): U(-b, b), b = sqrt(2) sqrt(6 / (fan_in + fan_out)).
        bound = np.sqrt(2.0) * np.sqrt(6.0 / (fan_in + fan_out))
        assert np.abs(kernel).max() <= bound
        if kernel.size > 100:
            assert abs(kernel.std() - bound / np.sqrt(3)) < 0.1 * bound / np.sqrt(3)
        np.testing.assert_allclose(numpy_of(layer.bias), 0.1)
    # Same-shaped private layers are drawn independently.
    enc_a, enc_b = model.encoder.private_a[0], model.encoder.private_b[0]
    assert not np.allclose(numpy_of(enc_a.conv.kernel), numpy_of(enc_b.conv.kernel))


def test_keras_initialization_is_unchanged_by_default():
    model = unit_tf.UNIT("lenet", seed=0)
    for layer in weighted_layers(*model.discriminators):
        if layer.bias is not None:
            np.testing.assert_array_equal(numpy_of(layer.bias), 0.0)


def test_source_only_classifier_takes_the_recipe():
    classifier = unit_tf.SourceOnlyClassifier("lenet", recipe="authors")
    for layer in weighted_layers(classifier.trunk, classifier.class_head):
        np.testing.assert_allclose(numpy_of(layer.bias), 0.1)
    classifier.compile()
    assert classifier.optimizer.l2 == 5e-4
