"""The no-adaptation baseline of the domain adaptation presets."""

import keras
from keras import ops
from keras.src.saving import serialization_lib

from unit_tf.models import optimizers
from unit_tf.networks import CoupledNetwork, get_preset, initialization, resolve_specs
from unit_tf.networks.specs import has_weights


@keras.saving.register_keras_serializable(package="unit_tf")
class SourceOnlyClassifier(keras.Model):
    """The UNIT class path (D_a's trunk and the class head) trained on source labels only.

    The same layers, widths and initialisers as `UNIT(preset).classify(x, "a")`
    (NIPS App. B; arXiv v1 Table 6 for "lenet"), without the translation
    networks and the GAN. Trained on labelled source images, it classifies
    target images with the same weights: the "source only" / "no adaptation"
    row the paper reports beside UNIT. `classify(x, domain)` ignores the
    domain, so `unit_tf.metrics.evaluation.evaluate_adaptation` scores it
    exactly as it scores a UNIT model.

    Args:
        preset: an adaptation preset (`num_classes` > 0), e.g. "lenet".
        overrides: preset fields to change.
        recipe: an adaptation recipe (see `UNIT`); the classifier takes its
            initialisation and weight decay, as UNIT's discriminator step does.

    Examples:
        >>> clf = SourceOnlyClassifier("lenet")
        >>> clf.compile()
        >>> clf.fit(source_images_and_labels, steps_per_epoch=2000)
        >>> clf.classify(target_images, "b").shape
        TensorShape([N, 10])
    """

    def __init__(self, preset="lenet", overrides=None, recipe=None, **kwargs):
        kwargs.setdefault("name", "source_only_classifier")
        super().__init__(**kwargs)
        p = get_preset(preset, recipe, **(overrides or {}))
        if not p.num_classes:
            raise ValueError(f"preset {p.name!r} has no class head (num_classes=0); use an "
                             "adaptation preset such as 'lenet'.")
        self.preset = p
        # D's layers without its real/fake output: the class head reads the
        # features that output would read.
        specs = resolve_specs(p.discriminator, p, norm_override=False)[:-1]
        # Every layer in the shared part: one branch, no unused private copy.
        n_weighted = sum(has_weights(s) for s in specs)
        self.trunk = CoupledNetwork(specs, n_weighted, "end",
                                            spatial_context=p.spatial_context,
                                            leaky_slope=p.leaky_slope, name="trunk")
        self.class_head = keras.layers.Dense(p.num_classes, name="shared_class_head")
        size = p.image_size
        self(ops.zeros((1, size, size, p.channels_a)))
        if p.initialization == "authors":
            initialization.discriminator_init(self.trunk, self.class_head)

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "preset": self.preset.to_dict()}

    def call(self, x, training=False):
        features = self.trunk(x, domain="a", training=training)
        return ops.cast(self.class_head(ops.reshape(features, (ops.shape(features)[0], -1))),
                        "float32")

    def input_channels(self, domain="a"):
        """Channels `classify` reads: the source's, for either domain."""
        del domain
        return self.preset.channels_a

    def classify(self, x, domain="a", training=False):
        """Class logits [N, num_classes]; the same network for either domain."""
        del domain
        return self(x, training=training)

    def compile(self, optimizer=None, **kwargs):
        """Adam(lr of the preset, 0.5, 0.999) with the preset's coupled L2 weight
        decay, as UNIT's discriminator step, and cross-entropy on the logits."""
        kwargs.setdefault("loss", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        kwargs.setdefault("metrics", ["accuracy"])
        optimizer = optimizer or optimizers.adam(self.preset.learning_rate,
                                                 self.preset.weight_decay)
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):
        self.compile(**serialization_lib.deserialize_keras_object(config))
        self.optimizer.build(self.trainable_variables)  # so its saved state loads
