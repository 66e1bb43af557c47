import keras
import tensorflow as tf
from keras import ops
from keras.src.saving import serialization_lib

from unit_tf.models import losses, optimizers
from unit_tf.networks import (CoupledNetwork, StyleEncoder, get_preset, initialization,
                              resolve_specs, style_encoder_specs)

_DOMAINS = ("a", "b")
# The fakes each discriminator judges: the translation into its domain, then
# (with `reconstructions_as_fakes`) the reconstruction.
_FAKES = {"a": ("ba", "aa"), "b": ("ab", "bb")}


@keras.saving.register_keras_serializable(package="unit_tf")
class UNIT(keras.Model):
    """UNIT: coupled VAE-GANs with a shared latent space (Liu et al., NIPS 2017).

    Two encoders E_a, E_b whose last layers are shared, two generators G_a,
    G_b whose first layers are shared, and two discriminators D_a, D_b. Images
    are floats in [-1, 1], NHWC. `fit()` trains on `(x_a, x_b)` batches, or
    `(x_a, x_b, labels_a)` for domain adaptation (class head on D_a).

    Args:
        preset: a preset name (see `unit_tf.networks.PRESETS`), a `Preset`,
            or its dict.
        overrides: preset fields to change, e.g. `{"shared_encoder": 2}`.
        recipe: an adaptation objective applied before `overrides`:
            "unit_tf" (the adaptation presets' own) or "authors" (the
            authors' adaptation trainer); see `ADAPTATION_RECIPES`.
        share_weights: False gives the no-weight-sharing ablation
            (CycleGAN-like): every "shared" layer is duplicated per domain.
        cycle_consistency: None keeps the preset's; False drops the cycle
            terms (the arXiv v1 model).
        discriminators: False drops D_a and D_b (the coupled-VAE ablation).
        seed: seed of the latent noise.
        domain_names: names of domains A and B (e.g. ("satellite", "map")),
            kept in the saved model for translators and exports.

    Examples:
        >>> model = UNIT("tiny")
        >>> model.compile()
        >>> model.fit(dataset_of_pairs, epochs=1)
        >>> y = model.translate_a2b(x)

    Reference:
        Liu, Breuel, Kautz. Unsupervised Image-to-Image Translation Networks.
        NIPS 2017 (arXiv:1703.00848).
    """

    def __init__(self, preset="tiny", overrides=None, share_weights=True,
                 cycle_consistency=None, discriminators=True, seed=None,
                 domain_names=("a", "b"), recipe=None, **kwargs):
        kwargs.setdefault("name", "unit")
        super().__init__(**kwargs)
        p = get_preset(preset, recipe, **(overrides or {}))
        self.preset = p
        self.share_weights = share_weights
        self.cycle_consistency = (p.cycle_consistency if cycle_consistency is None
                                  else cycle_consistency)
        self.use_discriminators = discriminators
        if p.loss_weights.get("cycle_classification") and not self.cycle_consistency:
            raise ValueError(
                "the cycle classification term reads x_aba, which only the cycle streams "
                f"make; preset {p.name!r} runs without them: pass cycle_consistency=True "
                "(tools/train.py: --cycle_consistency) or set cycle_classification to 0.")
        self.seed = seed
        self.domain_names = tuple(domain_names)
        self.loss_weights = dict(p.loss_weights)
        common = dict(share=share_weights, leaky_slope=p.leaky_slope)

        self.encoder = CoupledNetwork(
            resolve_specs(p.encoder, p), p.shared_encoder, "end",
            spatial_context=p.spatial_context, latent_form=p.latent_form, seed=seed,
            name="encoder", **common)
        self.generator = CoupledNetwork(
            resolve_specs(p.generator, p), p.shared_generator, "start",
            out_channels=(p.channels_a, p.channels_b), style_dim=p.style_dim,
            name="generator", **common)
        # Not part of UNIT: domain B's style code (preset field style_dim).
        self.style_encoder = None
        if p.style_dim:
            self.style_encoder = StyleEncoder(
                style_encoder_specs(resolve_specs(p.encoder, p)), p.style_dim,
                leaky_slope=p.leaky_slope, name="style_encoder_b")
            self.style_seed = keras.random.SeedGenerator(seed, name="style_seed")
        self.discriminators = []
        self.class_head_a = self.class_head_b = None
        if discriminators:
            d_specs = resolve_specs(p.discriminator, p, norm_override=False)
            self.discriminators = [
                CoupledNetwork(d_specs, p.shared_discriminator, "end",
                               spatial_context=p.spatial_context,
                               name="discriminator" if p.discriminator_scales == 1
                               else f"discriminator_scale{s}", **common)
                for s in range(p.discriminator_scales)]
            if p.num_classes:
                if share_weights:
                    self.class_head_a = keras.layers.Dense(p.num_classes, name="shared_class_head")
                    self.class_head_b = self.class_head_a
                else:
                    self.class_head_a = keras.layers.Dense(p.num_classes, name="class_head_a")
                    self.class_head_b = keras.layers.Dense(p.num_classes, name="class_head_b")
            self.downsample = keras.layers.AveragePooling2D(3, 2, padding="same",
                                                            name="downsample")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.loss_names()}
        self.build()
        if p.initialization == "authors":
            initialization.generator_init(self.encoder, self.generator, seed=seed)
            heads = [h for h in (self.class_head_a, self.class_head_b) if h is not None]
            initialization.discriminator_init(*self.discriminators, *heads, seed=seed)

    # ---- configuration --------------------------------------------------------
    def loss_names(self):
        """Names of the tracked losses under the current switches."""
        names = []
        if self.use_discriminators:
            names += ["d_loss", "d_gan"]
            if self.preset.num_classes:
                names.append("d_class")
                if self.loss_weights["translated_classification"]:
                    names.append("d_class_ab")
                if self.loss_weights["target_pseudo_label"]:
                    names.append("d_class_b_pseudo")
            if self.loss_weights["feature_matching"]:
                names.append("d_feature_matching")
        names += ["g_loss", "kl", "recon"]
        if self.use_discriminators:
            names.append("g_gan")
            if "d_class_ab" in names:
                names.append("g_class_ab")
            # Presets refuse class terms without a class head (Preset validation).
            if self.loss_weights["cycle_classification"]:
                names.append("g_class_aba")
            if self.loss_weights["target_class_balance"]:
                names.append("g_class_ba_balance")
        if self.cycle_consistency:
            names += ["kl_cycle", "cycle"]
        if self.loss_weights["style_reconstruction"]:
            names.append("style_recon")
        return names

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "preset": self.preset.to_dict(), "share_weights": self.share_weights,
                "cycle_consistency": self.cycle_consistency,
                "discriminators": self.use_discriminators, "seed": self.seed,
                "domain_names": list(self.domain_names)}

    def build(self, input_shape=None):
        """Creates every weight by running each network once on zeros."""
        if self.built:
            return
        p = self.preset
        size = p.image_size if p.fixed_size else 2 * p.size_divisor
        for domain, channels in zip(_DOMAINS, (p.channels_a, p.channels_b)):
            x = ops.zeros((1, size, size, channels))
            self.decode(self.encode(x, domain)["z"], domain)
            if domain == "b" and self.style_encoder is not None:
                self.encode_style(x)
            if self.use_discriminators:
                self.discriminate(x, domain)
                if p.num_classes:
                    self.classify(x, domain)
        self.built = True

    @property
    def generator_variables(self):
        """Trainable variables of E_a, E_b, G_a, G_b (shared ones once), and S_b."""
        style = self.style_encoder.trainable_variables if self.style_encoder else []
        return self.encoder.trainable_variables + self.generator.trainable_variables + style

    @property
    def discriminator_variables(self):
        """Trainable variables of D_a, D_b and the class head (shared ones once)."""
        variables = [v for d in self.discriminators for v in d.trainable_variables]
        heads = {id(h): h for h in (self.class_head_a, self.class_head_b) if h is not None}
        return variables + [v for h in heads.values() for v in h.trainable_variables]

    # ---- the networks ---------------------------------------------------------
    def check_images(self, x, domain):
        """Raises ValueError if `x` cannot be fed to domain `domain`'s networks."""
        p = self.preset
        channels = self.input_channels(domain)
        shape = tuple(x.shape)
        if len(shape) != 4:
            raise ValueError(f"domain {domain.upper()} expects a batch of images "
                             f"[batch, height, width, {channels}], got shape {shape}.")
        if shape[-1] is not None and shape[-1] != channels:
            raise ValueError(
                f"domain {domain.upper()} of preset {p.name!r} takes {channels}-channel "
                f"images, got {shape[-1]} channels; convert the images or set "
                f"channels_{domain}={shape[-1]} in the preset overrides.")
        for dim, label in ((shape[1], "height"), (shape[2], "width")):
            if dim is None:
                continue
            if p.fixed_size and dim != p.image_size:
                raise ValueError(
                    f"preset {p.name!r} takes only {p.image_size}x{p.image_size} images "
                    f"(a 'valid' layer pins the size); got {label} {dim}. Resize or pad "
                    f"the input to {p.image_size}.")
            if dim % p.size_divisor:
                raise ValueError(
                    f"preset {p.name!r} needs height and width divisible by "
                    f"{p.size_divisor}; got {label} {dim}. Pad or resize to "
                    f"{-(-dim // p.size_divisor) * p.size_divisor}.")

    def input_channels(self, domain):
        """Channels of domain `domain`'s images (what its networks read)."""
        return self.preset.channels_a if domain == "a" else self.preset.channels_b

    def encode(self, x, domain, training=False):
        """q(z|x) of `domain`: a dict with "z", "mu" (and "var" in the full form)."""
        self.check_images(x, domain)
        return self.encoder(x, domain=domain, training=training)

    def encode_style(self, x, training=False):
        """Domain B's style code S_b(x): [batch, style_dim] (presets with style_dim)."""
        if self.style_encoder is None:
            raise ValueError(f"preset {self.preset.name!r} has no style code (style_dim=0).")
        self.check_images(x, "b")
        return self.style_encoder(x, training=training)

    def _style_b(self, z, style):
        # G_b's style: the one given, else the prior's mean (zero), else none.
        if style is not None or self.style_encoder is None:
            return style
        return ops.zeros((ops.shape(z)[0], self.preset.style_dim))

    def decode(self, z, domain, training=False, style=None):
        """G_domain(z), as float32 images in [-1, 1]. `style`: G_b's style code
        (presets with style_dim; None: zero, the prior's mean)."""
        if domain == "b":
            style = self._style_b(z, style)
        return ops.cast(self.generator(z, domain=domain, training=training, style=style),
                        "float32")

    def decode_both(self, z, training=False, style_b=None):
        """(G_a(z), G_b(z)) with the shared generator layers run once."""
        a, b = self.generator.call_both(z, training=training,
                                        style_b=self._style_b(z, style_b))
        return ops.cast(a, "float32"), ops.cast(b, "float32")

    def discriminate(self, x, domain, training=False):
        """D_domain at every scale: a list of (logits, features)."""
        outputs = []
        for scale, d in enumerate(self.discriminators):
            if scale:
                x = self.downsample(x)
            outputs.append(d(x, domain=domain, training=training, return_features=True))
        return outputs

    def classify(self, x, domain, training=False):
        """Class logits from D_domain's trunk (domain adaptation presets)."""
        if self.class_head_a is None:
            raise ValueError(f"preset {self.preset.name!r} has no class head "
                             "(num_classes=0); use an adaptation preset such as 'lenet'.")
        return self.class_logits(self.discriminate(x, domain, training)[0][1], domain)

    def class_logits(self, features, domain):
        """The class head on D_domain's top features."""
        head = self.class_head_a if domain == "a" else self.class_head_b
        return ops.cast(head(ops.reshape(features, (ops.shape(features)[0], -1))), "float32")

    def translate_a2b(self, x, style=None):
        """Deterministic translation A -> B: G_b(mu of E_a(x)). Floats in [-1, 1].

        With a style code (presets with style_dim), `style` [batch, style_dim]
        picks the look in domain B, e.g. `encode_style` of a B image or a draw
        from N(0, I); None gives zero, the prior's mean.
        """
        return self.decode(self.encode(x, "a")["mu"], "b", style=style)

    def translate_b2a(self, x):
        """Deterministic translation B -> A: G_a(mu of E_b(x)). Floats in [-1, 1]."""
        return self.decode(self.encode(x, "b")["mu"], "a")

    def call(self, inputs, training=False):
        """The four streams of NIPS Fig. 1 on a pair `(x_a, x_b)`.

        Returns (images, codes): images "aa", "bb" (reconstruction), "ab",
        "ba" (translation) and, with cycle consistency, "aba", "bab"; codes
        are the latent dicts of "a", "b" (and "ab", "ba"). With a style code
        (style_dim), codes["style"] holds "b", S_b(x_b), which G_b reads for
        x_bb and x_bab, and "prior", what it reads for x_ab: a draw from
        N(0, I) in training, zero (the mean) otherwise.
        """
        x_a, x_b = inputs
        codes = {"a": self.encode(x_a, "a", training), "b": self.encode(x_b, "b", training)}
        style = {"b": None, "prior": None}
        if self.style_encoder is not None:
            shape = (ops.shape(x_a)[0], self.preset.style_dim)
            # Drawn in training; at inference the prior's mean, as z = mu.
            prior = (keras.random.normal(shape, seed=self.style_seed) if training
                     else ops.zeros(shape))
            style = {"b": self.encode_style(x_b, training), "prior": prior}
            codes["style"] = style
        images = {}
        images["aa"], images["ab"] = self.decode_both(codes["a"]["z"], training, style["prior"])
        images["ba"], images["bb"] = self.decode_both(codes["b"]["z"], training, style["b"])
        if self.cycle_consistency:
            codes["ab"] = self.encode(images["ab"], "b", training)
            codes["ba"] = self.encode(images["ba"], "a", training)
            images["aba"] = self.decode(codes["ab"]["z"], "a", training)
            images["bab"] = self.decode(codes["ba"]["z"], "b", training, style["b"])
        return images, codes

    # ---- the objective --------------------------------------------------------
    def fake_keys(self, domain):
        """Images D_domain judges as fakes: the translation (and the reconstruction)."""
        keys = _FAKES[domain]
        return keys if self.preset.reconstructions_as_fakes else keys[:1]

    def discriminator_losses(self, x_a, x_b, images, labels_a=None, training=True):
        """D's terms on real images and stopped-gradient fakes."""
        p = self.preset
        real = {"a": self.discriminate(x_a, "a", training),
                "b": self.discriminate(x_b, "b", training)}
        judged = {key: self.discriminate(ops.stop_gradient(images[key]), domain, training)
                  for domain in _DOMAINS for key in self.fake_keys(domain)}
        # Real images against the mean over the fakes: with reconstructions,
        # real + 0.5 (translation + reconstruction) at every scale.
        out = {"d_gan": sum(
            sum(losses.gan_discriminator(r[0], f[0], p.gan_loss)
                for r, f in zip(real[domain], judged[key])) / len(self.fake_keys(domain))
            for domain in _DOMAINS for key in self.fake_keys(domain))}
        if "d_class" in self.trackers and labels_a is not None:
            # Reuses D_a's features of the real source images from the GAN term.
            out["d_class"] = losses.classification(
                labels_a, self.class_logits(real["a"][0][1], "a"))
            if "d_class_ab" in self.trackers:
                # A source digit translated to the target domain keeps its label.
                out["d_class_ab"] = losses.classification(
                    labels_a, self.class_logits(judged["ab"][0][1], "b"))
        if "d_class_b_pseudo" in self.trackers:
            # A real target image takes the class D_a gives its translation
            # into the source domain, where D_a is confident (no dropout there).
            teacher = self.classify(ops.stop_gradient(images["ba"]), "a", training=False)
            out["d_class_b_pseudo"] = losses.pseudo_label_classification(
                teacher, self.class_logits(real["b"][0][1], "b"), p.pseudo_label_threshold)
        if "d_feature_matching" in self.trackers:
            # Corresponding pairs decoded from one code: (G_a(z_a), G_b(z_a)) and
            # (G_a(z_b), G_b(z_b)) should look alike to D_a and D_b's top layers.
            # The authors' form reads the features on a path without dropout.
            feature_training = training and p.feature_matching_form == "l1_mean"
            features = {key: self.discriminate(ops.stop_gradient(images[key]), domain,
                                               feature_training)[0][1]
                        for key, domain in (("aa", "a"), ("ab", "b"), ("ba", "a"), ("bb", "b"))}
            out["d_feature_matching"] = sum(
                losses.feature_matching(features[u], features[v], p.feature_matching_form)
                for u, v in (("aa", "ab"), ("ba", "bb")))
        return out

    def generator_losses(self, x_a, x_b, images, codes, labels_a=None, training=True):
        """E/G terms of NIPS Eq. 2-7 by name (unweighted)."""
        p = self.preset

        def likelihood(x, y):
            return losses.LIKELIHOODS[p.likelihood](x, y, p.loss_reduction)

        def kl(code):
            return losses.kl_divergence(code, p.loss_reduction)

        out = {
            "kl": kl(codes["a"]) + kl(codes["b"]),
            "recon": likelihood(images["aa"], x_a) + likelihood(images["bb"], x_b),
        }
        if self.use_discriminators:
            # Every fake D judged (translations, and reconstructions if they
            # are fakes too) should look real.
            judged = {key: self.discriminate(images[key], domain, training)
                      for domain in _DOMAINS for key in self.fake_keys(domain)}
            out["g_gan"] = sum(losses.gan_generator(logits, p.gan_loss)
                               for outputs in judged.values() for logits, _ in outputs)
            if "g_class_ab" in self.trackers and labels_a is not None:
                # The translation x_ab must keep the source digit's class for D_b.
                out["g_class_ab"] = losses.classification(
                    labels_a, self.class_logits(judged["ab"][0][1], "b"))
            if "g_class_aba" in self.trackers and labels_a is not None:
                # Back from the target domain (E_b, then G_a: the path a target
                # image takes to D_a's classifier), x_aba keeps its class for D_a.
                out["g_class_aba"] = losses.classification(
                    labels_a, self.classify(images["aba"], "a", training))
            if "g_class_ba_balance" in self.trackers:
                # Target images translated into the source domain are read by
                # D_a as every class in about equal share, not all as one.
                out["g_class_ba_balance"] = losses.class_balance(
                    self.classify(images["ba"], "a", training))
        if self.cycle_consistency:
            # Eq. 7: KL of the input's code and of the translation's code.
            out["kl_cycle"] = (kl(codes["a"]) + kl(codes["ab"])
                               + kl(codes["b"]) + kl(codes["ba"]))
            out["cycle"] = likelihood(images["aba"], x_a) + likelihood(images["bab"], x_b)
        if "style_recon" in self.trackers:
            # The style x_ab was drawn with, read back by S_b (MUNIT's style
            # reconstruction, L1): G_b must show the style it is given.
            out["style_recon"] = losses.l1(self.encode_style(images["ab"], training),
                                           codes["style"]["prior"])
        return out

    _WEIGHT_OF = {"d_gan": "gan", "g_gan": "gan", "kl": "kl", "recon": "recon",
                  "kl_cycle": "kl_cycle", "cycle": "cycle", "d_class": "classification",
                  "d_feature_matching": "feature_matching",
                  "d_class_ab": "translated_classification",
                  "g_class_ab": "translated_classification",
                  "g_class_aba": "cycle_classification",
                  "d_class_b_pseudo": "target_pseudo_label",
                  "g_class_ba_balance": "target_class_balance",
                  "style_recon": "style_reconstruction"}

    def weighted_total(self, named_losses):
        """Sum of the named losses weighted by the paper's lambdas."""
        return sum(self.loss_weights[self._WEIGHT_OF[name]] * value
                   for name, value in named_losses.items())

    # ---- training -------------------------------------------------------------
    def compile(self, g_optimizer=None, d_optimizer=None, jit_compile=False, **kwargs):
        """Adam(lr of the preset, 0.5, 0.999) for E/G and for D unless given, with
        the preset's coupled L2 `weight_decay` if it has one (`AdamL2`)."""
        lr, l2 = self.preset.learning_rate, self.preset.weight_decay
        self.g_optimizer = g_optimizer or optimizers.adam(lr, l2, name="g_adam")
        self.d_optimizer = d_optimizer or optimizers.adam(lr, l2, name="d_adam")
        super().compile(optimizer=self.g_optimizer, jit_compile=jit_compile, **kwargs)
        self._compile_config = serialization_lib.SerializableDict(
            g_optimizer=self.g_optimizer, d_optimizer=self.d_optimizer,
            jit_compile=jit_compile, **kwargs)

    def compile_from_config(self, config):
        config = serialization_lib.deserialize_keras_object(config)
        self.compile(**config)
        self.g_optimizer.build(self.generator_variables)
        if self.discriminator_variables:
            self.d_optimizer.build(self.discriminator_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    @staticmethod
    def unpack(data):
        """(x_a, x_b, labels_a or None) from a batch."""
        if isinstance(data, (tuple, list)) and len(data) in (2, 3):
            return data[0], data[1], data[2] if len(data) == 3 else None
        raise ValueError("UNIT trains on (x_a, x_b) or (x_a, x_b, labels_a) batches; "
                         f"got {type(data).__name__} of length "
                         f"{len(data) if hasattr(data, '__len__') else '?'}.")

    def train_step(self, data):
        return self.update_trackers(self.train_step_losses(data))

    def train_step_losses(self, data):
        """One UNIT iteration: a D step, then an E/G step. Returns this step's losses.

        Gradients are of per-replica means divided by the number of replicas,
        so under tf.distribute their all-reduced sum is the global-batch mean.
        """
        x_a, x_b, labels_a = self.unpack(data)
        # One E/G forward pass serves both steps: the D step sees its
        # translations with stopped gradients, the E/G step the same ones.
        tape = tf.GradientTape()
        with tape:
            images, codes = self((x_a, x_b), training=True)
        named = {}
        if self.use_discriminators:  # recorded by its own tape only
            named.update(self.discriminator_step(x_a, x_b, images, labels_a))
        with tape:
            g_losses = self.generator_losses(x_a, x_b, images, codes, labels_a)
            g_loss = self.weighted_total(g_losses)
            scaled = _per_replica(g_loss)
        variables = self.generator_variables
        grads = tape.gradient(scaled, variables)
        self.g_optimizer.apply_gradients(zip(grads, variables))
        named.update(g_losses, g_loss=g_loss)
        return named

    def discriminator_step(self, x_a, x_b, images, labels_a=None):
        """One D update with E/G fixed; returns D's named losses."""
        with tf.GradientTape() as tape:
            d_losses = self.discriminator_losses(x_a, x_b, images, labels_a)
            d_loss = self.weighted_total(d_losses)
            scaled = _per_replica(d_loss)
        variables = self.discriminator_variables
        grads = tape.gradient(scaled, variables)
        self.d_optimizer.apply_gradients(zip(grads, variables))
        return {**d_losses, "d_loss": d_loss}

    def test_step(self, data):
        x_a, x_b, labels_a = self.unpack(data)
        images, codes = self((x_a, x_b), training=False)
        named = {}
        if self.use_discriminators:
            d_losses = self.discriminator_losses(x_a, x_b, images, labels_a, training=False)
            named.update(d_losses, d_loss=self.weighted_total(d_losses))
        g_losses = self.generator_losses(x_a, x_b, images, codes, labels_a, training=False)
        named.update(g_losses, g_loss=self.weighted_total(g_losses))
        return self.update_trackers(named)

    def update_trackers(self, named):
        for name, value in named.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}


def _per_replica(loss):
    return loss / tf.distribute.get_strategy().num_replicas_in_sync
