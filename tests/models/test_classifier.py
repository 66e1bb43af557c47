"""SourceOnlyClassifier: the same class path as UNIT's, trained on source labels."""

import keras
import numpy as np
import pytest

import unit_tf
from unit_tf.data import make_dataset


def test_same_layers_as_the_unit_class_path():
    classifier = unit_tf.SourceOnlyClassifier("lenet")
    shapes = [tuple(v.shape) for v in classifier.trainable_variables]
    # arXiv v1 Table 6: conv 20 (5x5 on 1 + 2 coordinate channels), conv 50, FC 500,
    # then the 10-way head; no real/fake output.
    assert shapes == [(5, 5, 3, 20), (20,), (5, 5, 20, 50), (50,), (1250, 500), (500,),
                      (500, 10), (10,)]
    assert classifier.count_params() == 657080
    unit = unit_tf.UNIT("lenet")
    unit_shapes = [tuple(v.shape) for v in unit.discriminator_variables]
    for shape in shapes:  # every classifier weight has its counterpart in D_a + head
        assert shape in unit_shapes


def test_classify_ignores_the_domain():
    classifier = unit_tf.SourceOnlyClassifier("lenet")
    x = np.random.default_rng(0).uniform(-1, 1, (4, 32, 32, 1)).astype("float32")
    a, b = classifier.classify(x, "a"), classifier.classify(x, "b")
    assert a.shape == (4, 10) and a.dtype == "float32"
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_fit_on_real_source_digits_learns_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    data = make_dataset("mnist_uci", 32, 32, channels=(1, 1), seed=0)
    source = data.map(lambda x_a, x_b, labels_a: (x_a, labels_a))
    classifier = unit_tf.SourceOnlyClassifier("lenet")
    classifier.compile()
    x, labels = next(iter(source.take(1)))
    before = classifier.evaluate(x, labels, verbose=0, return_dict=True)["loss"]
    classifier.fit(source, steps_per_epoch=60, epochs=1, verbose=0)
    after = classifier.evaluate(x, labels, verbose=0, return_dict=True)
    assert after["loss"] < 0.5 * before and after["accuracy"] > 0.5, (before, after)
    path = str(tmp_path / "clf.keras")
    classifier.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(classifier(x)), atol=1e-6)
    assert int(loaded.optimizer.iterations) == 60  # optimizer state restored


def test_preset_without_class_head_is_refused():
    with pytest.raises(ValueError, match="no class head"):
        unit_tf.SourceOnlyClassifier("digits")
