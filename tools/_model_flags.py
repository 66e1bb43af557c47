"""The model flags of tools/train.py, shared with tools/benchmark.py.

A preset's fields (widths, weight sharing, the objective's weights and forms,
the channels) and UNIT's ablation switches, defined once, so that the recipe
of a model card runs as trained under either tool:

    python tools/train.py --preset nips_translation_lite --gan_loss lsgan \
        --discriminator_scales 3 ...
    python tools/benchmark.py --only train --translation_preset nips_translation_lite \
        --gan_loss lsgan --discriminator_scales 3 ...

Each flag left unset keeps the preset's value. Both tools put this folder on
sys.path and import this module, so its flags are defined once per process.
"""

from absl import flags

FLAGS = flags.FLAGS

# Architecture (NIPS 2017 Table 3 / arXiv v1 Table 3 fields).
flags.DEFINE_integer("width", None, "Base width override (the tables' N of the first layer).",
                     lower_bound=1)
flags.DEFINE_integer("shared_encoder", None, "Shared encoder layers (from the end).")
flags.DEFINE_integer("shared_generator", None, "Shared generator layers (from the start).")
flags.DEFINE_integer("shared_discriminator", None, "Shared discriminator layers.")
flags.DEFINE_integer("channels_a", None, "Channels of domain A (1 gray, 3 RGB).", lower_bound=1)
flags.DEFINE_integer("channels_b", None, "Channels of domain B (e.g. 3 for MNIST-M).",
                     lower_bound=1)
flags.DEFINE_string("gan_loss", None, "bce (paper) or lsgan.")
flags.DEFINE_integer("discriminator_scales", None, "Discriminator scales (1: the paper; 3: "
                     "the same net on the image downsampled x1, x2, x4).", lower_bound=1)
flags.DEFINE_string("initialization", None, "keras or authors (Xavier x sqrt(2) D, N(0, 0.02) "
                    "E/G).")
# The objective: the paper's lambdas and the adaptation terms.
flags.DEFINE_float("lambda0", None, "GAN weight (NIPS lambda0).")
flags.DEFINE_float("lambda1", None, "KL weight (lambda1).")
flags.DEFINE_float("lambda2", None, "Reconstruction weight (lambda2).")
flags.DEFINE_float("lambda3", None, "Cycle KL weight (lambda3).")
flags.DEFINE_float("lambda4", None, "Cycle reconstruction weight (lambda4).")
flags.DEFINE_float("feature_matching_weight", None, "Discriminator feature matching weight.")
flags.DEFINE_float("classification_weight", None, "Class-head weight (adaptation presets).")
flags.DEFINE_float("translated_classification_weight", None, "Adaptation presets: weight of "
                   "the class head on source digits translated to the target domain, for D_b "
                   "and for E/G (0: the paper's method).")
flags.DEFINE_float("cycle_classification_weight", None, "Adaptation presets, with cycle "
                   "consistency: weight of D_a's class head on source digits translated to "
                   "the target domain and back (x_aba), for E/G (0: the paper's method).")
flags.DEFINE_float("pseudo_label_weight", None, "Adaptation presets: weight of D_b's class "
                   "head on real target images labelled by D_a's class of their translation "
                   "x_ba, where D_a is confident (0: the paper's method).")
flags.DEFINE_float("class_balance_weight", None, "Adaptation presets: weight of the class "
                   "balance of D_a's reading of target images translated into the source "
                   "domain (x_ba), for E/G: KL of the batch's mean class distribution from "
                   "uniform (0: the paper's method).")
flags.DEFINE_integer("style_dim", None, "Not part of UNIT: a style vector of this length for "
                     "domain B, read by G_b besides the shared code (0: none, the paper).",
                     lower_bound=0)
flags.DEFINE_float("style_reconstruction_weight", None, "With --style_dim: weight of the style "
                   "a translation x_ab was drawn with, read back from it (L1).")
flags.DEFINE_float("pseudo_label_threshold", None, "Softmax peak of D_a on x_ba from which a "
                   "target image's pseudo-label is kept (preset default 0.9).")
flags.DEFINE_bool("reconstructions_as_fakes", None, "D also judges reconstructions as fakes.")
flags.DEFINE_string("feature_matching_form", None, "l1_mean or l2_sum (the authors').")
flags.DEFINE_string("loss_reduction", None, "mean (per element) or sum (per image) for "
                    "reconstruction and KL.")
flags.DEFINE_float("translate_scale", None, "The training images' scale relative to the "
                   "images the finished translator is given (e.g. 0.5 with --load_size 128 for "
                   "256x256 tiles): it resizes inputs by it, translates, and resizes back. "
                   "Does not change training.")
# Optimisation.
flags.DEFINE_float("learning_rate", None, "Adam learning rate; default: the preset's.")
flags.DEFINE_float("weight_decay", None, "Coupled L2 weight decay of both Adams (PyTorch's).")
# Ablations (arguments of unit_tf.UNIT, not preset fields).
flags.DEFINE_bool("share_weights", True, "False: no weight sharing (CycleGAN-like ablation).")
flags.DEFINE_bool("cycle_consistency", None, "Override the preset's cycle terms.")
flags.DEFINE_bool("discriminators", True, "False: coupled VAEs (no D) ablation.")

PRESET_FIELDS = ("width", "shared_encoder", "shared_generator", "shared_discriminator",
                 "channels_a", "channels_b", "gan_loss", "discriminator_scales",
                 "initialization", "reconstructions_as_fakes", "feature_matching_form",
                 "loss_reduction", "learning_rate", "weight_decay", "pseudo_label_threshold",
                 "translate_scale", "style_dim")
# Flag -> the preset's loss_weights key.
LAMBDAS = {"lambda0": "gan", "lambda1": "kl", "lambda2": "recon", "lambda3": "kl_cycle",
           "lambda4": "cycle", "feature_matching_weight": "feature_matching",
           "classification_weight": "classification",
           "translated_classification_weight": "translated_classification",
           "cycle_classification_weight": "cycle_classification",
           "pseudo_label_weight": "target_pseudo_label",
           "class_balance_weight": "target_class_balance",
           "style_reconstruction_weight": "style_reconstruction"}


def preset_overrides():
    """The preset fields the flags set (for `unit_tf.get_preset(name, **overrides)`)."""
    overrides = {k: getattr(FLAGS, k) for k in PRESET_FIELDS if getattr(FLAGS, k) is not None}
    weights = {LAMBDAS[k]: getattr(FLAGS, k) for k in LAMBDAS if getattr(FLAGS, k) is not None}
    if weights:
        overrides["loss_weights"] = weights
    return overrides


def unit_options():
    """The ablation switches, as keyword arguments of `unit_tf.UNIT`."""
    return {"share_weights": FLAGS.share_weights,
            "cycle_consistency": FLAGS.cycle_consistency,
            "discriminators": FLAGS.discriminators}
