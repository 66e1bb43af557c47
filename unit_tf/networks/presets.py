"""Architecture presets: the paper's appendix tables as data.

Every preset is a `Preset` of plain values. Widths are written as in the
tables (`table_width` is the table's base width); a preset's `width` scales
every layer except logit heads and image outputs. The number of shared
layers counts layers with weights: the last `shared_encoder` encoder layers,
the first `shared_generator` generator layers and the last
`shared_discriminator` discriminator layers are one set of weights used by
both domains.
"""

import dataclasses

from unit_tf.layers.norms import NORMS
from unit_tf.networks.specs import (conv, dconv, dense, dropout, flatten, has_weights,
                                    latent, maxpool, res, scale_spec)

FEATURE_MATCHING_FORMS = ("l1_mean", "l2_sum")

# The paper's loss weights (NIPS 2017 Sec. 4): lambda0 GAN, lambda1 KL,
# lambda2 reconstruction, lambda3 cycle KL, lambda4 cycle reconstruction.
NIPS_LOSS_WEIGHTS = dict(gan=10.0, kl=0.1, recon=100.0, kl_cycle=0.1, cycle=100.0,
                         feature_matching=0.0, classification=0.0,
                         translated_classification=0.0, cycle_classification=0.0,
                         target_pseudo_label=0.0, target_class_balance=0.0,
                         style_reconstruction=0.0)
# Loss weights of terms that read a class head (adaptation presets only).
CLASS_TERMS = ("classification", "translated_classification", "cycle_classification",
               "target_pseudo_label", "target_class_balance")
# Terms added after the first release; a saved config without them has them off.
LATER_LOSS_TERMS = {name: NIPS_LOSS_WEIGHTS[name]
                    for name in ("translated_classification", "cycle_classification",
                                 "target_pseudo_label", "target_class_balance",
                                 "style_reconstruction")}
# arXiv v1 App. C (domain adaptation): feature matching 1e-4, classification 10.
ADAPTATION_LOSS_WEIGHTS = dict(NIPS_LOSS_WEIGHTS, feature_matching=1e-4,
                               classification=10.0)
# The authors' adaptation weights (mingyuliutw/UNIT, branch version_02,
# exps/unit/svhn2mnist.yaml; terms in src/trainers/cocogan_trainer_da.py),
# rewritten for this project's forms of the terms (loss_reduction="sum",
# feature_matching_form="l2_sum", every term summed over the two domains).
AUTHORS_ADAPTATION_LOSS_WEIGHTS = dict(
    # gan_w 1 on a cross-entropy averaged over the concatenated A and B batch,
    # which is half of our sum of the two domains' means.
    gan=0.5,
    # kl_normalized_direct_w 1e-4 on 2 x sum(mu^2 + sd^2 - log sd^2) per image
    # = 2 x 2 x (the exact KL summed per image) + a constant, averaged over the
    # concatenated batch = 2 x our sum of the two domains' means.
    kl=2e-4,
    # ll_normalized_direct_w 1e-3 on the squared error summed over each image.
    recon=1e-3,
    # No cycle term in the authors' adaptation model; the same conversions.
    kl_cycle=2e-4, cycle=1e-3,
    # feature_w 1e-4 on the squared feature difference summed per image.
    feature_matching=1e-4,
    classification=10.0,       # cls_w, on a batch-mean cross-entropy as ours
    translated_classification=0.0, cycle_classification=0.0, target_pseudo_label=0.0,
    target_class_balance=0.0, style_reconstruction=0.0)


@dataclasses.dataclass(frozen=True)
class Preset:
    """One UNIT architecture and its training defaults. See module docstring."""

    name: str
    reference: str                 # the table(s) the preset encodes
    image_size: int                # training size (square)
    fixed_size: bool               # True when a 'valid' layer pins the input size
    table_width: int               # base width the tables are written in
    encoder: tuple                 # layer specs; the last is the latent
    generator: tuple               # layer specs; filters=None is the image output
    discriminator: tuple           # layer specs; the last gives real/fake logits
    shared_encoder: int
    shared_generator: int
    shared_discriminator: int
    width: int = 0                 # 0 means table_width
    channels_a: int = 3
    channels_b: int = 3
    norm: str = ""                 # "" keeps the tables' norms; else replaces E/G norms
    spatial_context: bool = False  # append x, y coordinate channels (NIPS App. B)
    discriminator_scales: int = 1  # >1: the same D design at x1, x2, x4, ...
    num_classes: int = 0           # >0: 10-way class head on the D trunk (adaptation)
    latent_form: str = "reduced"   # "reduced" (NIPS) or "full" (arXiv v1)
    likelihood: str = "l1"         # "l1" (Laplacian, NIPS) or "l2" (Gaussian, arXiv v1)
    gan_loss: str = "bce"          # "bce" (paper) or "lsgan" (authors' later code)
    cycle_consistency: bool = True
    loss_weights: dict = dataclasses.field(default_factory=lambda: dict(NIPS_LOSS_WEIGHTS))
    leaky_slope: float = 0.2
    learning_rate: float = 1e-4    # Adam, betas (0.5, 0.999)
    batch_size: int = 1
    # Adaptation objective switches (see ADAPTATION_RECIPES); the defaults are
    # this project's first form, so configs saved before them load unchanged.
    reconstructions_as_fakes: bool = False  # D also judges x_aa, x_bb as fakes
    feature_matching_form: str = "l1_mean"  # or "l2_sum" (features read without dropout)
    loss_reduction: str = "mean"   # recon/KL/cycle per element, or "sum" per image
    weight_decay: float = 0.0      # coupled L2 on both optimizers (PyTorch Adam's)
    initialization: str = "keras"  # or "authors" (Xavier x sqrt(2) D, N(0, 0.02) E/G)
    # The target pseudo-label term (loss weight target_pseudo_label) keeps a
    # target image's label only where D_a's softmax peak on x_ba reaches this.
    pseudo_label_threshold: float = 0.9
    # The scale of the training images relative to the images a translator
    # is given: 0.5 for maps tiles resized from 256 to 128 before cropping
    # (tools/train.py --load_size 128). Translators resize each input by it
    # (the training pipeline's resize), translate, and resize the output back
    # to the input's size. Training itself does not read it.
    translate_scale: float = 1.0
    # Not part of UNIT: a style vector of this length for domain B (0: none,
    # the paper). G_b reads it besides the shared code: a style encoder's
    # reading of x_b for reconstructions, a draw from N(0, I) for
    # translations (loss weight style_reconstruction: the style read back
    # from x_ab). See BUILD_NOTES "A style code for domain B".
    style_dim: int = 0

    @property
    def resolved_width(self):
        return self.width or self.table_width

    @property
    def size_divisor(self):
        """Input height and width must be multiples of this (fully convolutional nets)."""
        divisor = 1
        for spec in self.encoder:
            divisor *= spec.get("stride", 1)
        return divisor

    def to_dict(self):
        return dataclasses.asdict(self)

    def validate(self):
        """Raises ValueError naming the first inconsistent field and how to fix it."""
        def fail(msg):
            raise ValueError(f"preset {self.name!r}: {msg}")

        for field in ("shared_encoder", "shared_generator", "shared_discriminator"):
            value = getattr(self, field)
            if not isinstance(value, int) or value < 0:
                fail(f"{field} must be a non-negative integer, got {value!r}.")
        for field, specs in (("shared_encoder", self.encoder),
                             ("shared_generator", self.generator),
                             ("shared_discriminator", self.discriminator)):
            n = sum(has_weights(s) for s in specs)
            if getattr(self, field) > n:
                fail(f"{field}={getattr(self, field)} but that network has only {n} "
                     f"layers with weights; use 0..{n}.")
        for field in ("channels_a", "channels_b", "image_size", "discriminator_scales",
                      "batch_size"):
            if not isinstance(getattr(self, field), int) or getattr(self, field) < 1:
                fail(f"{field} must be a positive integer, got {getattr(self, field)!r}.")
        if self.width < 0:
            fail(f"width must be positive (or 0 for the table's {self.table_width}).")
        if self.norm and self.norm not in NORMS:
            fail(f"norm must be one of {NORMS} (or '' for the tables'), got {self.norm!r}.")
        if self.latent_form not in ("reduced", "full"):
            fail(f"latent_form must be 'reduced' or 'full', got {self.latent_form!r}.")
        if self.latent_form == "full" and self.encoder[-1]["filters"] is None:
            fail("the full latent form needs a latent with filters (mu and sigma^2 convs).")
        if self.likelihood not in ("l1", "l2"):
            fail(f"likelihood must be 'l1' or 'l2', got {self.likelihood!r}.")
        if self.gan_loss not in ("bce", "lsgan"):
            fail(f"gan_loss must be 'bce' or 'lsgan', got {self.gan_loss!r}.")
        for field, valid in (("feature_matching_form", FEATURE_MATCHING_FORMS),
                             ("loss_reduction", ("mean", "sum")),
                             ("initialization", ("keras", "authors"))):
            if getattr(self, field) not in valid:
                fail(f"{field} must be one of {valid}, got {getattr(self, field)!r}.")
        if not 0.0 <= self.pseudo_label_threshold <= 1.0:
            fail(f"pseudo_label_threshold must be in [0, 1], got "
                 f"{self.pseudo_label_threshold!r}.")
        if not (isinstance(self.translate_scale, (int, float)) and self.translate_scale > 0):
            fail(f"translate_scale must be a positive number, got {self.translate_scale!r}.")
        if self.fixed_size and self.translate_scale != 1:
            fail(f"translate_scale must be 1 for a fixed-size preset (it takes only "
                 f"{self.image_size}x{self.image_size} images), got {self.translate_scale!r}.")
        if not isinstance(self.style_dim, int) or self.style_dim < 0:
            fail(f"style_dim must be a non-negative integer, got {self.style_dim!r}.")
        if self.loss_weights.get("style_reconstruction") and not self.style_dim:
            fail("the style reconstruction term reads domain B's style code, which it has "
                 "not: set style_dim (e.g. 8), or set style_reconstruction to 0.")
        if not self.weight_decay >= 0:
            fail(f"weight_decay must be at least 0, got {self.weight_decay!r}.")
        if self.num_classes and self.discriminator_scales != 1:
            fail("a class head needs a single-scale discriminator (discriminator_scales=1).")
        class_terms = [name for name in CLASS_TERMS if self.loss_weights.get(name)]
        if class_terms and not self.num_classes:
            fail(f"it has no class head, so the class terms {', '.join(class_terms)} have "
                 "nothing to act on: set their weights to 0, or use an adaptation preset "
                 "(lenet, lenet_spatial, svhn).")
        unknown = set(self.loss_weights) - set(NIPS_LOSS_WEIGHTS)
        if unknown:
            fail(f"unknown loss weights {sorted(unknown)}; known: {sorted(NIPS_LOSS_WEIGHTS)}.")
        if self.encoder[-1]["type"] != "latent":
            fail("the encoder must end with a latent spec.")
        if self.image_size % self.size_divisor:
            fail(f"image_size {self.image_size} is not a multiple of {self.size_divisor}.")
        return self


# --- NIPS 2017 Appendix A, Table 3: the image translation network. -------------
_NIPS_ENCODER = (
    conv(64, 7, 1, act="lrelu"),                       # 1: no norm
    conv(128, 3, 2, norm="instance", act="relu"),      # 2
    conv(256, 3, 2, norm="instance", act="relu"),      # 3
    res(256), res(256), res(256),                      # 4-6
    res(256),                                          # mu: the shared block(s)
    latent(),                                          # z = mu + N(0, I)
)
_NIPS_GENERATOR = (
    res(256),                                          # 1: shared
    res(256), res(256), res(256),                      # 2-4
    dconv(128, 3, 2, norm="instance", act="relu"),     # 5
    dconv(64, 3, 2, norm="instance", act="relu"),      # 6
    dconv(None, 1, 1, act="tanh"),                     # 7: image
)
# Five CONV-(K3,S2)+LReLU layers doubling from N64, then 1x1 patch logits.
_NIPS_DISCRIMINATOR = (
    conv(64, 3, 2, act="lrelu"), conv(128, 3, 2, act="lrelu"),
    conv(256, 3, 2, act="lrelu"), conv(512, 3, 2, act="lrelu"),
    conv(1024, 3, 2, act="lrelu"),
    conv(1, 1, 1, fixed=True),
)

# --- NIPS App. B / arXiv v1 Table 3: the 32x32 digit network. ------------------
_DIGITS_ENCODER = (
    conv(32, 5, 2, norm="batch", act="lrelu"),                   # 1: not shared
    conv(64, 5, 2, norm="batch", act="lrelu"),                   # 2: shared
    conv(128, 8, 1, norm="batch", act="lrelu", padding="valid"), # 3: shared, 8x8 -> 1x1
    conv(256, 1, 1, norm="batch", act="lrelu"),                  # 4: shared
    latent(256),                                                 # mu, sigma^2: shared
)
_DIGITS_GENERATOR = (
    dconv(256, 4, 2, norm="batch", act="lrelu", padding="valid"),  # 1: shared, 1 -> 4
    dconv(128, 4, 2, norm="batch", act="lrelu"),                   # 2: shared
    dconv(64, 4, 2, norm="batch", act="lrelu"),                    # 3: shared
    dconv(32, 4, 2, norm="batch", act="lrelu"),                    # 4
    dconv(None, 1, 1, act="tanh"),                                 # 5: image
)
# arXiv v1 Table 3 toy discriminator; its final Sigmoid lives in the loss.
_TOY_DISCRIMINATOR = (
    conv(32, 5, 2, norm="batch", act="lrelu"),                   # 1: not shared
    conv(64, 5, 2, norm="batch", act="lrelu"),                   # 2-5: shared
    conv(128, 8, 1, norm="batch", act="lrelu", padding="valid"),
    conv(256, 1, 1, norm="batch", act="lrelu"),
    conv(1, 2, 1, fixed=True),
)
# arXiv v1 Table 6 (MNIST<->USPS, LeNet-like); layer 1 private, the rest shared.
_LENET_DISCRIMINATOR = (
    conv(20, 5, 1, padding="valid"), maxpool(),        # 1
    conv(50, 5, 1, padding="valid"), maxpool(),        # 2
    flatten(), dense(500, act="relu"), dropout(0.5),   # 3
    dense(1, fixed=True),                              # 4a: real/fake (4b: class head)
)
# NIPS 2017 Table 3's translation network at N=32 for 32x32 digits: the code
# is 8x8x128. Used with the LeNet discriminator by `lenet_spatial`, whose
# table width is 32 so that the LeNet widths stay as Table 6 gives them.
_SPATIAL_ENCODER = tuple(scale_spec(s, 0.5) for s in _NIPS_ENCODER)
_SPATIAL_GENERATOR = tuple(scale_spec(s, 0.5) for s in _NIPS_GENERATOR)
# arXiv v1 Table 8 (SVHN->MNIST); ReLU, 'same' padding and the dropout rates of
# the authors' code.
_SVHN_DISCRIMINATOR = (
    conv(64, 5, 1, act="relu"), maxpool(), dropout(0.1),     # 1
    conv(128, 5, 1, act="relu"), maxpool(), dropout(0.3),    # 2
    conv(256, 5, 1, act="relu"), maxpool(), dropout(0.5),    # 3
    conv(512, 5, 1, act="relu"), maxpool(), dropout(0.5),    # 4
    flatten(), dense(1, fixed=True),                         # 5a (5b: class head)
)

# --- A tiny translation net for fast tests (not from the paper). ---------------
_TINY_ENCODER = (conv(8, 3, 1, act="lrelu"), conv(16, 3, 2, norm="instance", act="relu"),
                 res(16), res(16), latent())
_TINY_GENERATOR = (res(16), res(16), dconv(8, 3, 2, norm="instance", act="relu"),
                   dconv(None, 1, 1, act="tanh"))
_TINY_DISCRIMINATOR = (conv(8, 3, 2, act="lrelu"), conv(16, 3, 2, act="lrelu"),
                       conv(1, 1, 1, fixed=True))

# --- The authors' released network (mingyuliutw/UNIT, branch version_02). ------
# The NIPS-era code's generator class `COCOResGen2` (src/trainers/cocogan_nets.py)
# is built from a `gen:` config block; this is the block of the released
# models (exps/unit/*.yaml: cat2tiger, corgi2husky, synthia2cityscape).
UNIT_V02_GEN = dict(
    name="COCOResGen2",
    ch=64,                  # base width: the first convolution's channels
    input_dim_a=3,          # image channels of domain A
    input_dim_b=3,          # and of domain B
    n_enc_front_blk=3,      # a 7x7 convolution, then n - 1 stride-2 3x3 ones
    n_enc_res_blk=3,        # private residual blocks at the end of each encoder
    n_enc_shared_blk=1,     # shared residual blocks ending the encoders: mu
    n_gen_shared_blk=1,     # shared residual blocks starting the generators
    n_gen_res_blk=3,        # private residual blocks of each generator
    n_gen_front_blk=3,      # n - 1 stride-2 transposed convolutions, then the 1x1 output
    res_dropout_ratio=0.5,  # dropout in every residual block (optional in their code: 0)
)


def unit_v02_networks(gen):
    """Preset fields for a `COCOResGen2` `gen:` block: what its code builds.

    Unlike NIPS Table 3, no layer outside the residual blocks is normalised;
    every such layer but the tanh output has a LeakyReLU (the preset's
    `leaky_slope`, PyTorch's default 0.01) and a bias; convolutions pad as
    PyTorch does (integer paddings); the transposed convolutions are k3 s2 p1
    with output_padding 1; and each residual block ends its branch with
    dropout. Widths are written at base 64 and scaled to `ch` by `width`.
    The block's keys are checked by `unit_tf.importers.unit_v02`.
    """
    down = gen["n_enc_front_blk"] - 1
    top = 64 * 2 ** down                      # width of every residual block
    drop = gen.get("res_dropout_ratio", 0.0)
    encoder = (
        conv(64, 7, 1, act="lrelu", padding=3),
        *(conv(64 * 2 ** (i + 1), 3, 2, act="lrelu", padding=1) for i in range(down)),
        *(res(top, dropout=drop) for _ in range(gen["n_enc_res_blk"])),
        *(res(top, dropout=drop) for _ in range(gen["n_enc_shared_blk"])),  # shared
        latent(),                             # the Gaussian noise layer: z = mu + N(0, I)
    )
    generator = (
        *(res(top, dropout=drop) for _ in range(gen["n_gen_shared_blk"])),  # shared
        *(res(top, dropout=drop) for _ in range(gen["n_gen_res_blk"])),
        *(dconv(top // 2 ** (i + 1), 3, 2, act="lrelu", padding=1, output_padding=1)
          for i in range(gen["n_gen_front_blk"] - 1)),
        dconv(None, 1, 1, act="tanh", padding=0),  # image
    )
    return dict(encoder=encoder, generator=generator,
                shared_encoder=gen["n_enc_shared_blk"], shared_generator=gen["n_gen_shared_blk"],
                channels_a=gen["input_dim_a"], channels_b=gen["input_dim_b"], width=gen["ch"])


_NIPS = dict(
    reference="NIPS 2017 Appendix A, Table 3",
    image_size=256, fixed_size=False, table_width=64,
    encoder=_NIPS_ENCODER, generator=_NIPS_GENERATOR, discriminator=_NIPS_DISCRIMINATOR,
    shared_encoder=1, shared_generator=1, shared_discriminator=0,
)
_DIGITS = dict(
    image_size=32, fixed_size=True, table_width=32,
    encoder=_DIGITS_ENCODER, generator=_DIGITS_GENERATOR,
    shared_encoder=4, shared_generator=3,
    latent_form="full", likelihood="l2", batch_size=64, learning_rate=2e-4,
)

PRESETS = {
    p.name: p for p in (
        Preset(name="nips_translation", **_NIPS),
        # Half width (base 32) for training on a CPU; otherwise Table 3 as is.
        Preset(name="nips_translation_lite", **dict(_NIPS, width=32)),
        # arXiv v1 App. B toy study (Table 3): no cycle term in that model.
        Preset(name="digits", reference="arXiv v1 Table 3 (toy study); NIPS App. B",
               discriminator=_TOY_DISCRIMINATOR, shared_discriminator=4,
               cycle_consistency=False, **_DIGITS),
        # Domain adaptation (NIPS App. B): class head on a shared LeNet trunk.
        # Objective: the "unit_tf" recipe (ADAPTATION_RECIPES); recipe="authors"
        # gives the authors' adaptation trainer.
        Preset(name="lenet", reference="arXiv v1 Tables 3 and 6; NIPS App. B",
               discriminator=_LENET_DISCRIMINATOR, shared_discriminator=3,
               num_classes=10, channels_a=1, channels_b=1, spatial_context=True,
               cycle_consistency=False, loss_weights=dict(ADAPTATION_LOSS_WEIGHTS),
               **_DIGITS),
        # Domain adaptation between textured colour domains (MNIST -> MNIST-M):
        # the lenet discriminator and class head with NIPS Table 3's
        # translation network at N=32, whose code is an 8x8 map (32x32
        # input) instead of arXiv v1 Table 3's 1x1 vector, so a digit's
        # layout and the target's texture pass through the code. Not a paper
        # preset; see BUILD_NOTES "A spatial code for MNIST-M".
        Preset(name="lenet_spatial",
               reference="NIPS 2017 Table 3 E/G at N=32 (not App. B's); arXiv v1 Table 6 D",
               image_size=32, fixed_size=True, table_width=32,
               encoder=_SPATIAL_ENCODER, generator=_SPATIAL_GENERATOR, shared_encoder=1,
               shared_generator=1, discriminator=_LENET_DISCRIMINATOR,
               shared_discriminator=3, num_classes=10, spatial_context=True,
               cycle_consistency=False, loss_weights=dict(ADAPTATION_LOSS_WEIGHTS),
               batch_size=64, learning_rate=2e-4),
        # Objective: the "unit_tf" recipe, as lenet.
        Preset(name="svhn", reference="arXiv v1 Tables 3 and 8; NIPS App. B",
               discriminator=_SVHN_DISCRIMINATOR, shared_discriminator=4,
               num_classes=10, spatial_context=True, cycle_consistency=False,
               loss_weights=dict(ADAPTATION_LOSS_WEIGHTS), **_DIGITS),
        # The authors' released generators, for importing their checkpoints
        # (unit_tf.importers). Their discriminator configs are not imported:
        # D is Table 3's, and the training defaults are the paper's.
        Preset(name="unit_v02",
               reference="mingyuliutw/UNIT branch version_02, COCOResGen2 with the released "
                         "models' gen: block; discriminator NIPS 2017 Table 3",
               image_size=256, fixed_size=False, table_width=64,
               discriminator=_NIPS_DISCRIMINATOR, shared_discriminator=0, leaky_slope=0.01,
               **unit_v02_networks(UNIT_V02_GEN)),
        Preset(name="tiny", reference="none: a small test network shaped like Table 3",
               image_size=32, fixed_size=False, table_width=8,
               encoder=_TINY_ENCODER, generator=_TINY_GENERATOR,
               discriminator=_TINY_DISCRIMINATOR,
               shared_encoder=1, shared_generator=1, shared_discriminator=0),
    )
}


# Domain adaptation objectives: each recipe is a set of preset fields, one
# field per separate idea, applied by `get_preset(name, recipe=...)` before
# any overrides. Facts about the authors' trainer are from mingyuliutw/UNIT,
# branch version_02: src/trainers/cocogan_trainer_da.py (terms, optimizers,
# init), cocogan_nets_da.py and common_net.py (networks),
# exps/unit/svhn2mnist.yaml (weights); see BUILD_NOTES "Adaptation recipes".
ADAPTATION_RECIPES = {
    # This project's first form: every term a per-element mean with the NIPS
    # lambdas (GAN 10, KL 0.1, reconstruction 100); feature matching an L1
    # mean at 1e-4. The `lenet` and `svhn` presets use it.
    "unit_tf": dict(
        loss_weights=ADAPTATION_LOSS_WEIGHTS, reconstructions_as_fakes=False,
        feature_matching_form="l1_mean", loss_reduction="mean", weight_decay=0.0,
        initialization="keras", leaky_slope=0.2),
    "authors": dict(
        loss_weights=AUTHORS_ADAPTATION_LOSS_WEIGHTS,
        # D scores real images against 0.5 x (translation + reconstruction)
        # and E/G ask D to call both real.
        reconstructions_as_fakes=True,
        # D_b(x_ab) against D_a(x_aa), D_a(x_ba) against D_b(x_bb): squared
        # error summed over the feature elements, in the D step.
        feature_matching_form="l2_sum",
        loss_reduction="sum",        # MSE x C x H x W; KL summed
        weight_decay=5e-4,           # torch.optim.Adam(weight_decay=5e-4), both nets
        initialization="authors",    # xavier_weights_init (D), gaussian_weights_init (G)
        leaky_slope=0.01),           # nn.LeakyReLU() default slope in E/G
}


def get_preset(preset, recipe=None, **overrides):
    """Returns a validated `Preset` by name (or a Preset / its dict) with overrides.

    Args:
        preset: a name in `PRESETS`, a `Preset` or its dict.
        recipe: an adaptation objective of `ADAPTATION_RECIPES` ("unit_tf",
            "authors"), applied before `overrides`.
        **overrides: preset fields to change.

    Example:
        >>> get_preset("digits", shared_encoder=2, shared_generator=1).shared_encoder
        2
        >>> get_preset("lenet", recipe="authors").loss_reduction
        'sum'
    """
    if isinstance(preset, Preset):
        base = preset
    elif isinstance(preset, dict):
        fields = {k: tuple(v) if k in ("encoder", "generator", "discriminator") else v
                  for k, v in preset.items()}
        if "loss_weights" in fields:  # configs saved before a term existed: term off
            fields["loss_weights"] = {**LATER_LOSS_TERMS, **fields["loss_weights"]}
        base = Preset(**fields)
    elif preset in PRESETS:
        base = PRESETS[preset]
    else:
        raise ValueError(f"Unknown preset {preset!r}; valid presets: {', '.join(sorted(PRESETS))}.")
    if recipe is not None:
        if recipe not in ADAPTATION_RECIPES:
            raise ValueError(f"Unknown recipe {recipe!r}; valid recipes: "
                             f"{', '.join(sorted(ADAPTATION_RECIPES))}.")
        if not base.num_classes:
            raise ValueError(f"recipe {recipe!r} is a domain adaptation objective; preset "
                             f"{base.name!r} has no class head (use lenet or svhn).")
        fields = dict(ADAPTATION_RECIPES[recipe])
        fields["loss_weights"] = dict(fields["loss_weights"])
        base = dataclasses.replace(base, **fields)
    fields = {f.name for f in dataclasses.fields(Preset)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(f"Unknown preset field(s) {unknown}; valid fields: {sorted(fields)}.")
    if "loss_weights" in overrides:
        overrides["loss_weights"] = {**base.loss_weights, **overrides["loss_weights"]}
    for key in ("encoder", "generator", "discriminator"):  # a manifest's JSON lists
        if key in overrides:
            overrides[key] = tuple(overrides[key])
    return dataclasses.replace(base, **overrides).validate()
