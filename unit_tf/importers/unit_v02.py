"""Importing the authors' NIPS-era UNIT generators (mingyuliutw/UNIT, branch version_02).

The released translators (cat2tiger, corgi2husky, synthia2cityscape, ...)
are `torch.save(gen.state_dict())` files of the class `COCOResGen2`, built
from the `gen:` block of an `exps/unit/*.yaml` config. This module reads
that block (`read_gen_config`), builds the matching unit_tf preset
(`unit_v02` plus overrides, `gen_preset`), and assigns the checkpoint's
tensors to a `UNIT` without discriminators (`import_generator`).

Name mapping (A is unit_tf's domain a; B likewise):

    encode_A.i            encoder/layer{i}_a            (front convs, then res blocks)
    enc_shared.j          encoder/shared_layer{...}     (then the noise layer: the latent)
    dec_shared.j          generator/shared_layer{j}
    decode_A.i            generator/layer{...}_a        (res blocks, transposed convs, 1x1)

Inside a module, `model.0` is a LeakyReLU block's convolution and
`model.0` / `model.3` a residual block's two convolutions; the final 1x1
transposed convolution is a bare module (`decode_A.k.weight`). Kernels go
from PyTorch's [out, in, kH, kW] (convolutions) and [in, out, kH, kW]
(transposed) to Keras' [kH, kW, in, out] and [kH, kW, out, in]: the same
transpose (2, 3, 1, 0) for both. A residual block's convolution biases are
checked and dropped: the affine-free instance norm right after each one
subtracts every channel's mean, so a per-channel bias never reaches the
output (unit_tf's blocks have no bias there).
"""

import os

import numpy as np

from unit_tf.importers.torch_checkpoint import read_state_dict
from unit_tf.networks.presets import get_preset, unit_v02_networks

GENERATOR_CLASSES = ("COCOResGen2",)
REQUIRED_KEYS = ("ch", "input_dim_a", "input_dim_b", "n_enc_front_blk", "n_enc_res_blk",
                 "n_enc_shared_blk", "n_gen_shared_blk", "n_gen_res_blk", "n_gen_front_blk")
# COCOResGen2 reads res_dropout_ratio only if present (default 0).
OPTIONAL_KEYS = ("res_dropout_ratio",)
_POSITIVE = ("ch", "input_dim_a", "input_dim_b", "n_enc_front_blk", "n_gen_front_blk")
GENERATOR_PREFIXES = ("encode_A.", "encode_B.", "enc_shared.", "dec_shared.", "decode_A.",
                      "decode_B.")
MAX_LISTED = 5


class ImportConfigError(ValueError):
    """A config whose `gen:` block this importer cannot build."""


class CheckpointMismatchError(ValueError):
    """A checkpoint whose tensors do not fit the network the config describes."""


def validate_gen(gen, source="gen"):
    """Checks a `gen:` block (a dict); returns it with the optional keys filled in."""
    if not isinstance(gen, dict):
        raise ImportConfigError(f"{source}: the gen: block must be a mapping, got "
                                f"{type(gen).__name__}.")
    name = gen.get("name")
    if name not in GENERATOR_CLASSES:
        raise ImportConfigError(
            f"{source}: generator class {name!r} is not supported; unit_tf imports "
            f"{', '.join(GENERATOR_CLASSES)}, the class of the authors' released NIPS-era "
            "models (branch version_02, gen: name: COCOResGen2).")
    missing = [k for k in REQUIRED_KEYS if k not in gen]
    if missing:
        raise ImportConfigError(f"{source}: the gen: block lacks {', '.join(missing)}; "
                                f"COCOResGen2 needs {', '.join(REQUIRED_KEYS)}.")
    unknown = sorted(set(gen) - {"name", *REQUIRED_KEYS, *OPTIONAL_KEYS})
    if unknown:
        raise ImportConfigError(f"{source}: unknown gen: keys {', '.join(unknown)}; "
                                "COCOResGen2 reads only "
                                f"{', '.join(REQUIRED_KEYS + OPTIONAL_KEYS)}.")
    gen = {**{"res_dropout_ratio": 0.0}, **gen}
    for key in REQUIRED_KEYS:
        value, low = gen[key], 1 if key in _POSITIVE else 0
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ImportConfigError(f"{source}: {key} must be an integer >= {low}, got "
                                    f"{value!r}.")
    ratio = gen["res_dropout_ratio"]
    if not isinstance(ratio, (int, float)) or isinstance(ratio, bool) or not 0 <= ratio < 1:
        raise ImportConfigError(f"{source}: res_dropout_ratio must be in [0, 1), got "
                                f"{ratio!r}.")
    if gen["n_enc_front_blk"] != gen["n_gen_front_blk"]:
        raise ImportConfigError(
            f"{source}: n_enc_front_blk={gen['n_enc_front_blk']} but n_gen_front_blk="
            f"{gen['n_gen_front_blk']}: the translations would not have the input's size, "
            "which unit_tf's translators need.")
    gen["res_dropout_ratio"] = float(ratio)
    return gen


def read_gen_config(path):
    """The validated `gen:` block of an authors' config file (YAML)."""
    import yaml

    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            config = yaml.safe_load(f)
    except OSError as e:
        raise ImportConfigError(f"{path}: cannot read the config ({e}).") from None
    except yaml.YAMLError as e:
        raise ImportConfigError(f"{path} is not valid YAML: {e}") from None
    if not isinstance(config, dict) or "gen" not in config:
        raise ImportConfigError(f"{path} has no gen: block; pass the authors' "
                                "exps/unit/*.yaml config the checkpoint was trained with.")
    return validate_gen(config["gen"], path)


def gen_preset(gen):
    """The unit_tf `Preset` of a validated `gen:` block: `unit_v02` with overrides.

    Examples:
        >>> gen_preset(dict(UNIT_V02_GEN, ch=8)).resolved_width
        8
    """
    return get_preset("unit_v02", **unit_v02_networks(gen))


def _module_params(prefix, layer, bare=False):
    """[(torch name, Keras variable or None for a cancelled bias, torch shape)]."""
    from unit_tf.layers import ResidualBlock

    def kernel(name, variable):
        kh, kw, a, b = variable.shape
        return name, variable, (b, a, kh, kw)

    if isinstance(layer, ResidualBlock):
        out = []
        for index, block in (("0", layer.conv1), ("3", layer.conv2)):
            out.append(kernel(f"{prefix}.model.{index}.weight", block.conv.kernel))
            out.append((f"{prefix}.model.{index}.bias", None, (block.filters,)))
        return out
    inner = "" if bare else ".model.0"
    return [kernel(f"{prefix}{inner}.weight", layer.conv.kernel),
            (f"{prefix}{inner}.bias", layer.conv.bias, tuple(layer.conv.bias.shape))]


def parameter_map(model):
    """Every COCOResGen2 tensor name of `model`'s architecture with its target.

    Returns:
        [(torch name, Keras variable or None, expected torch shape)], in the
        order of the authors' state_dict.
    """
    from unit_tf.layers import GaussianLatent

    def weighted(layers):
        return [layer for layer in layers if not isinstance(layer, GaussianLatent)]

    enc, gen = model.encoder, model.generator
    entries = []
    for prefix, layers in (("encode_A", enc.private_a), ("encode_B", enc.private_b),
                           ("enc_shared", enc.shared), ("dec_shared", gen.shared)):
        for i, layer in enumerate(weighted(layers)):
            entries += _module_params(f"{prefix}.{i}", layer)
    for prefix, layers in (("decode_A", gen.private_a), ("decode_B", gen.private_b)):
        for i, layer in enumerate(layers):
            entries += _module_params(f"{prefix}.{i}", layer, bare=i == len(layers) - 1)
    return entries


def _listed(items):
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f", ... ({len(items)} in all)" if len(items) > MAX_LISTED else "")


def check_state_dict(state, entries, source):
    """Raises CheckpointMismatchError naming the first few names and shapes that differ."""
    if state and not any(name.startswith(GENERATOR_PREFIXES) for name in state):
        first = sorted({name.split(".", 1)[0] for name in state})
        raise CheckpointMismatchError(
            f"{source} holds no generator tensors (its names start with {_listed(first)}, "
            f"none with {', '.join(p[:-1] for p in GENERATOR_PREFIXES)}). Is it a "
            "discriminator checkpoint (*_dis_*.pkl)? Pass the generator (*_gen_*.pkl).")
    expected = {name: shape for name, _, shape in entries}
    missing = [n for n in expected if n not in state]
    unexpected = [n for n in state if n not in expected]
    shapes = [f"{n} is {list(state[n].shape)} in the file, {list(expected[n])} for the config"
              for n in expected if n in state and tuple(state[n].shape) != expected[n]]
    problems = []
    if missing:
        problems.append(f"{len(missing)} tensors missing from the file: {_listed(missing)}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected tensors: {_listed(unexpected)}")
    if shapes:
        problems.append(f"{len(shapes)} shapes differ: {_listed(shapes)}")
    if problems:
        raise CheckpointMismatchError(
            f"{source} does not fit the config's COCOResGen2: " + "; ".join(problems)
            + ". Pass the config the checkpoint was trained with.")
    nonfloat = [n for n in expected if not np.issubdtype(state[n].dtype, np.floating)]
    if nonfloat:
        raise CheckpointMismatchError(f"{source}: tensors {_listed(nonfloat)} are not "
                                      "floating point; not a trained generator.")


def load_generator(model, state, source="checkpoint"):
    """Assigns a COCOResGen2 state_dict to a `UNIT` built with `gen_preset`."""
    entries = parameter_map(model)
    check_state_dict(state, entries, source)
    for name, variable, _ in entries:
        value = state[name]
        if variable is None:  # a bias cancelled by the instance norm after it
            continue
        if value.ndim == 4:
            value = value.transpose(2, 3, 1, 0)
        variable.assign(value.astype(variable.dtype))


def import_generator(config, weights, domain_names=("a", "b")):
    """A `unit_tf.UNIT` holding an authors' released generator.

    Args:
        config: the authors' config YAML (its `gen:` block is read), or a
            `gen:` dict.
        weights: the `*_gen_*.pkl` checkpoint (legacy or zip format), read
            without PyTorch by `read_state_dict`.
        domain_names: names of domains A and B (e.g. ("cat", "tiger")).

    Returns:
        A built UNIT without discriminators (the checkpoint has none), preset
        `unit_v02` with the config's overrides, in inference mode.

    Raises:
        ImportConfigError, CheckpointError, CheckpointMismatchError.

    Examples:
        >>> model = import_generator("cat2tiger.yaml", "cat2tiger_gen_00500000.pkl",
        ...                          domain_names=("cat", "tiger"))
        >>> tigers = model.translate_a2b(cats)   # floats in [-1, 1], NHWC
    """
    from unit_tf.models import UNIT

    gen = validate_gen(config) if isinstance(config, dict) else read_gen_config(config)
    state = read_state_dict(weights)
    model = UNIT(gen_preset(gen), discriminators=False, domain_names=tuple(domain_names))
    load_generator(model, state, os.path.basename(os.fspath(weights)))
    return model
