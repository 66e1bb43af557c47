"""Layer specs: the rows of the paper's architecture tables as plain dicts.

A spec is a dict with a "type" and that layer's arguments. `filters=None`
on an output layer means "the domain's image channels". `fixed=True` keeps
a width from being scaled by a preset's `width` (logit heads). `padding` is
"same", "valid" or an integer (PyTorch's symmetric zero padding, see
`ConvBlock`). Keys added for the authors' network (`output_padding`,
`dropout`) appear only when set, so the specs of the other presets, and the
configs saved with them, are unchanged.
"""

import keras

from unit_tf.layers import ConvBlock, ConvTransposeBlock, GaussianLatent, ResidualBlock

WEIGHTED_TYPES = ("conv", "dconv", "res", "dense")


def conv(filters, kernel, stride=1, norm="none", act="none", padding="same", fixed=False):
    return dict(type="conv", filters=filters, kernel=kernel, stride=stride, norm=norm,
                act=act, padding=padding, fixed=fixed)


def dconv(filters, kernel, stride=1, norm="none", act="none", padding="same", fixed=False,
          output_padding=0):
    spec = dict(type="dconv", filters=filters, kernel=kernel, stride=stride, norm=norm,
                act=act, padding=padding, fixed=fixed)
    if output_padding:
        spec["output_padding"] = output_padding
    return spec


def res(filters, kernel=3, norm="instance", act="relu", dropout=0.0):
    spec = dict(type="res", filters=filters, kernel=kernel, norm=norm, act=act)
    if dropout:
        spec["dropout"] = dropout
    return spec


def latent(filters=None):
    """The Gaussian latent (mu, and sigma^2 in the full form) ending an encoder."""
    return dict(type="latent", filters=filters)


def maxpool(size=2, stride=2):
    return dict(type="maxpool", size=size, stride=stride)


def flatten():
    return dict(type="flatten")


def dense(units, act="none", fixed=False):
    return dict(type="dense", units=units, act=act, fixed=fixed)


def dropout(rate):
    return dict(type="dropout", rate=rate)


def has_weights(spec):
    return spec["type"] in WEIGHTED_TYPES or (
        spec["type"] == "latent" and spec["filters"] is not None)


def scale_spec(spec, scale, norm_override=None):
    """Returns `spec` with widths scaled and norms overridden."""
    spec = dict(spec)
    for key in ("filters", "units"):
        if key not in spec:
            continue
        if spec[key] is not None and not spec.get("fixed"):
            spec[key] = max(1, int(round(spec[key] * scale)))
    if norm_override is not None and spec.get("norm", "none") != "none":
        spec["norm"] = norm_override
    return spec


def build_layer(spec, name, leaky_slope=0.2, latent_form="reduced", seed=None):
    """Creates the Keras layer a (resolved) spec describes."""
    kind = spec["type"]
    if kind in ("conv", "dconv"):
        cls = ConvBlock if kind == "conv" else ConvTransposeBlock
        return cls(spec["filters"], spec["kernel"], spec["stride"], padding=spec["padding"],
                   norm=spec["norm"], activation=spec["act"], leaky_slope=leaky_slope,
                   output_padding=spec.get("output_padding", 0), name=name)
    if kind == "res":
        return ResidualBlock(spec["filters"], spec["kernel"], norm=spec["norm"],
                             activation=spec["act"], leaky_slope=leaky_slope,
                             dropout=spec.get("dropout", 0.0), name=name)
    if kind == "latent":
        return GaussianLatent(latent_form, spec["filters"], seed=seed, name=name)
    if kind == "maxpool":
        return keras.layers.MaxPooling2D(spec["size"], spec["stride"], name=name)
    if kind == "flatten":
        return keras.layers.Flatten(name=name)
    if kind == "dense":
        act = {"none": None, "lrelu": "leaky_relu"}.get(spec["act"], spec["act"])
        return keras.layers.Dense(spec["units"], activation=act, name=name)
    if kind == "dropout":
        return keras.layers.Dropout(spec["rate"], name=name)
    raise ValueError(f"Unknown layer type {kind!r} in spec {spec}.")
