"""Analytic FLOP counts of a UNIT training iteration and of one translation.

Counted from layer shapes, not measured. What is counted:

* Multiply-accumulates of `Conv2D`, `Conv2DTranspose` and `Dense` layers,
  as 2 FLOPs per MAC (bias adds not counted). A convolution costs
  2 * H_out * W_out * K_h * K_w * C_in * C_out per image, padding included;
  a transposed convolution 2 * H_in * W_in * K_h * K_w * C_in * C_out (each
  input pixel scatters a K_h x K_w x C_out patch). These are found inside
  the library's blocks (`ConvBlock`, `ResidualBlock`, `GaussianLatent`,
  including the mu and sigma^2 1x1 convolutions) and the class head.
* Forward passes: every network call `UNIT.train_step_losses` makes.
  - E/G pass (`UNIT.call`): E_a(x_a), E_b(x_b); `decode_both` of z_a and
    z_b, where the shared leading generator layers run once per code; with
    cycle consistency E_b(x_ab), E_a(x_ba), G_a(z_ab), G_b(z_ba); with a
    style code (style_dim) S_b(x_b), S_b(x_ab) for the style reconstruction
    term, and the style modulations' dense layers once per decoding by G_b.
  - D step: D_a(x_a), D_b(x_b), D_a(x_ba), D_b(x_ab) at every scale; with a
    class head and labels, the head on D_a(x_a)'s features (no second D pass);
    with feature matching, D on the four decodings aa, ab, ba, bb.
  - E/G step: D_a(x_ba), D_b(x_ab) again (D has just been updated).
  - Only with `reuse_translations=False` (the alternative design the
    benchmark compares): the D step's own forward pass to its translations,
    E_a(x_a), E_b(x_b), G_b(z_a), G_a(z_b) (`translations_flops`).
* Backward passes, as multiples of the forward FLOPs of the same calls:
  - 2x (gradient w.r.t. the input and w.r.t. the weights) for the networks
    whose weights are updated in that step: every D call of the D step,
    and the whole E/G pass in the E/G step;
  - 1x for D in the E/G step: the gradient passes through D to the
    translations, but D's weights are not differentiated there (TensorFlow
    prunes the unused weight gradients in a `tf.function`).
  The first layer's unneeded input gradient is counted anyway (simpler, and
  a few percent at most).

Not counted: normalisation (instance/batch norm moments and scaling),
activations, residual additions, the latent noise, pooling, losses, the
optimizer update, and any other elementwise or data-movement op. On a CPU
those are memory-bound and can take a large share of the time, which is
why achieved FLOP/s is a lower bound on how busy the matmul units are.
"""

import dataclasses

import keras

from unit_tf.layers import ConvBlock, GaussianLatent, ResidualBlock

_WEIGHTLESS = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D,
               keras.layers.Flatten, keras.layers.Dropout, keras.layers.Activation,
               keras.layers.LeakyReLU)


def layer_flops(layer, input_shape):
    """(FLOPs, output shape) of one forward call of `layer` on `input_shape`.

    `input_shape` is a full shape with the batch, e.g. (1, 256, 256, 3).
    Raises TypeError for a layer with weights this counter does not know,
    rather than silently counting it as free.
    """
    shape = tuple(int(d) for d in input_shape)
    if isinstance(layer, keras.layers.Conv2DTranspose):
        out = _shape(layer.compute_output_shape(shape))
        kh, kw = layer.kernel_size
        return 2 * shape[0] * shape[1] * shape[2] * kh * kw * shape[3] * layer.filters, out
    if isinstance(layer, keras.layers.Conv2D):
        out = _shape(layer.compute_output_shape(shape))
        kh, kw = layer.kernel_size
        if layer.groups != 1:
            raise TypeError(f"{layer.name}: grouped convolutions are not counted.")
        return 2 * out[0] * out[1] * out[2] * kh * kw * shape[3] * layer.filters, out
    if isinstance(layer, keras.layers.Dense):
        rows = 1
        for d in shape[:-1]:
            rows *= d
        return 2 * rows * shape[-1] * layer.units, (*shape[:-1], layer.units)
    if isinstance(layer, ConvBlock):  # explicit (PyTorch-style) padding pads or crops
        padded = shape if layer.pad is None else layer.pad.compute_output_shape(shape)
        flops, _ = layer_flops(layer.conv, padded)
        return flops, _shape(layer.compute_output_shape(shape))
    if isinstance(layer, ResidualBlock):
        f1, mid = layer_flops(layer.conv1, shape)
        f2, _ = layer_flops(layer.conv2, mid)
        return f1 + f2, shape
    if isinstance(layer, GaussianLatent):
        total, out = 0, shape
        for conv in (layer.mu_conv, layer.var_conv):
            if conv is not None:
                flops, out = layer_flops(conv, shape)
                total += flops
        return total, out
    if isinstance(layer, _WEIGHTLESS) or not layer.weights:
        return 0, _shape(layer.compute_output_shape(shape))
    raise TypeError(f"layer_flops does not know how to count {type(layer).__name__} "
                    f"({layer.name!r}).")


def layers_flops(layers, input_shape):
    """(FLOPs, output shape, features shape) of `layers` applied in order.

    The features shape is the input shape of the last layer (what
    `return_features=True` returns: discriminator features).
    """
    total, shape, features = 0, tuple(input_shape), tuple(input_shape)
    for layer in layers:
        features = shape
        flops, shape = layer_flops(layer, shape)
        total += flops
    return total, shape, features


def network_flops(network, domain, input_shape):
    """(FLOPs, output shape, features shape) of `CoupledNetwork` branch `domain`."""
    shape = tuple(input_shape)
    if network.context is not None:  # x, y coordinate channels
        shape = (*shape[:-1], shape[-1] + 2)
    return layers_flops(network.branch(domain), shape)


@dataclasses.dataclass
class TrainStepFlops:
    """FLOPs of one UNIT iteration (one D step, one E/G step), per batch.

    Fields are forward or backward FLOPs of the parts described in the
    module docstring; `total` sums them. `per_image` divides by the batch.
    """

    batch_size: int
    image_size: tuple
    eg_forward: int = 0           # the shared E/G pass (UNIT.call)
    d_step_forward: int = 0       # D (and class head) calls of the D step
    d_step_backward: int = 0      # 2x d_step_forward
    g_step_d_forward: int = 0     # D on the translations in the E/G step
    g_step_d_backward: int = 0    # 1x: input gradients only
    eg_backward: int = 0          # 2x eg_forward
    recomputed_eg_forward: int = 0  # only when the D step recomputes its translations

    @property
    def forward(self):
        return (self.eg_forward + self.d_step_forward + self.g_step_d_forward
                + self.recomputed_eg_forward)

    @property
    def backward(self):
        return self.d_step_backward + self.g_step_d_backward + self.eg_backward

    @property
    def total(self):
        return self.forward + self.backward

    @property
    def per_image(self):
        return self.total / self.batch_size

    def as_dict(self):
        return {**dataclasses.asdict(self), "forward": self.forward,
                "backward": self.backward, "total": self.total}


def _shape(shape):
    return tuple(int(d) for d in shape)


def _sizes(model, image_size, batch_size):
    p = model.preset
    if image_size is None:
        image_size = p.image_size
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    h, w = (int(s) for s in image_size)
    batch = p.batch_size if batch_size is None else int(batch_size)
    return batch, h, w


def encode_flops(model, domain, input_shape):
    """(FLOPs, shape of z) of E_domain on images of `input_shape`."""
    flops, z_shape, _ = network_flops(model.encoder, domain, input_shape)
    return flops, z_shape


def decode_flops(model, domain, z_shape):
    """(FLOPs, image shape) of G_domain on codes of `z_shape`."""
    flops, out, _ = network_flops(model.generator, domain, z_shape)
    return flops, out


def decode_both_flops(model, z_shape):
    """FLOPs of `UNIT.decode_both`: shared leading layers once, then both branches."""
    g = model.generator
    if g.shared_at != "start" or not g.share or g.context is not None:
        return decode_flops(model, "a", z_shape)[0] + decode_flops(model, "b", z_shape)[0]
    shared, h, _ = layers_flops(g.shared, z_shape)
    return (shared + layers_flops(g.private_a, h)[0] + layers_flops(g.private_b, h)[0])


def style_flops(model, input_shape):
    """FLOPs of domain B's style encoder S_b on images of `input_shape`."""
    s = model.style_encoder
    return layers_flops([*s.convs, s.pool, s.out], input_shape)[0]


def _film_flops(model, batch):
    return sum(layer_flops(m.film, (batch, model.preset.style_dim))[0]
               for m in model.generator.style_modulations_b)


def discriminate_flops(model, domain, input_shape):
    """(FLOPs, features shape of scale 0) of `UNIT.discriminate` (every scale)."""
    total, shape, first_features = 0, tuple(input_shape), None
    for scale, d in enumerate(model.discriminators):
        if scale:
            shape = _shape(model.downsample.compute_output_shape(shape))
        flops, _, features = network_flops(d, domain, shape)
        total += flops
        first_features = first_features or features
    return total, first_features


def eg_pass_flops(model, image_size=None, batch_size=None):
    """Forward FLOPs of `UNIT.call` in training: the four (six with cycle) streams."""
    batch, h, w = _sizes(model, image_size, batch_size)
    p = model.preset
    x_a, x_b = (batch, h, w, p.channels_a), (batch, h, w, p.channels_b)
    enc_a, z_a = encode_flops(model, "a", x_a)
    enc_b, z_b = encode_flops(model, "b", x_b)
    total = enc_a + enc_b + decode_both_flops(model, z_a) + decode_both_flops(model, z_b)
    if model.style_encoder is not None:
        reads = 2 if "style_recon" in model.trackers else 1      # x_b (and x_ab)
        decodings = 3 if model.cycle_consistency else 2          # bb, ab (and bab)
        total += reads * style_flops(model, x_b) + decodings * _film_flops(model, batch)
    if model.cycle_consistency:
        # E_b(x_ab), E_a(x_ba), G_a(z_ab), G_b(z_ba); translations have the
        # target domain's channels and the source's size.
        enc_ab, z_ab = encode_flops(model, "b", (batch, h, w, p.channels_b))
        enc_ba, z_ba = encode_flops(model, "a", (batch, h, w, p.channels_a))
        total += (enc_ab + enc_ba + decode_flops(model, "a", z_ab)[0]
                  + decode_flops(model, "b", z_ba)[0])
    return total


def translations_flops(model, image_size=None, batch_size=None):
    """Forward FLOPs of the E/G work the D step needs: x_ab, x_ba (and x_aa, x_bb).

    E_a(x_a), E_b(x_b), then G_b(z_a) and G_a(z_b) (the shared generator
    layers once per code); with feature matching both decodings of each
    code. This is what a D step that recomputed its inputs would run: in a
    `tf.function` TensorFlow prunes the rest of `UNIT.call` (reconstructions,
    cycle) when nothing reads it.
    """
    batch, h, w = _sizes(model, image_size, batch_size)
    p = model.preset
    enc_a, z_a = encode_flops(model, "a", (batch, h, w, p.channels_a))
    enc_b, z_b = encode_flops(model, "b", (batch, h, w, p.channels_b))
    total = enc_a + enc_b
    if "d_feature_matching" in model.trackers:
        return total + decode_both_flops(model, z_a) + decode_both_flops(model, z_b)
    g = model.generator
    for z, target in ((z_a, "b"), (z_b, "a")):
        if g.shared_at != "start" or not g.share or g.context is not None:
            total += decode_flops(model, target, z)[0]
        else:
            shared, hidden, _ = layers_flops(g.shared, z)
            private = g.private_b if target == "b" else g.private_a
            total += shared + layers_flops(private, hidden)[0]
    return total


def train_step_flops(model, image_size=None, batch_size=None, labels=False,
                     reuse_translations=True):
    """FLOPs of one `UNIT.train_step_losses` iteration (see the module docstring).

    Args:
        model: a built `unit_tf.UNIT`.
        image_size: training size, int or (height, width); default the preset's.
        batch_size: images per domain; default the preset's.
        labels: the batches carry labels of domain A (adaptation presets):
            the class head term is computed.
        reuse_translations: True (the library's design) runs the E/G pass
            once for both steps; False adds the forward work of recomputing
            the D step's translations (`translations_flops`), the alternative
            the benchmark compares against.

    Returns:
        A `TrainStepFlops`.

    Example:
        >>> train_step_flops(UNIT("nips_translation"), 128, 1).total / 1e9  # GFLOPs
    """
    batch, h, w = _sizes(model, image_size, batch_size)
    p = model.preset
    x_a, x_b = (batch, h, w, p.channels_a), (batch, h, w, p.channels_b)
    counts = TrainStepFlops(batch_size=batch, image_size=(h, w))
    counts.eg_forward = eg_pass_flops(model, (h, w), batch)
    counts.eg_backward = 2 * counts.eg_forward
    if not model.use_discriminators:
        return counts
    if not reuse_translations:
        counts.recomputed_eg_forward = translations_flops(model, (h, w), batch)
    d_a, features_a = discriminate_flops(model, "a", x_a)
    d_b, _ = discriminate_flops(model, "b", x_b)
    # Reals and fakes: a translation has the target domain's shape.
    d_step = 2 * (d_a + d_b)
    head = 0
    if "d_class" in model.trackers and labels:
        flat = 1
        for dim in features_a[1:]:
            flat *= dim
        head = layer_flops(model.class_head_a, (batch, flat))[0]
        d_step += head
    # The class head on translated source digits, in the D step and the E/G step.
    head_ab = head if "d_class_ab" in model.trackers else 0
    d_step += head_ab
    if "d_feature_matching" in model.trackers:
        d_step += 2 * (d_a + d_b)
    counts.d_step_forward = d_step
    counts.d_step_backward = 2 * d_step
    counts.g_step_d_forward = d_a + d_b + head_ab
    counts.g_step_d_backward = d_a + d_b + head_ab
    return counts


def translation_flops(model, image_size=None, batch_size=1, direction="a2b"):
    """Forward FLOPs of `translate_a2b` / `translate_b2a` (E_source then G_target).

    Example:
        >>> translation_flops(UNIT("nips_translation"), 256) / 1e9  # GFLOPs per image
    """
    if direction not in ("a2b", "b2a"):
        raise ValueError(f"direction must be 'a2b' or 'b2a', got {direction!r}.")
    batch, h, w = _sizes(model, image_size, batch_size)
    p = model.preset
    source, target = ("a", "b") if direction == "a2b" else ("b", "a")
    channels = p.channels_a if source == "a" else p.channels_b
    enc, z = encode_flops(model, source, (batch, h, w, channels))
    film = _film_flops(model, batch) if target == "b" and model.style_encoder else 0
    return enc + decode_flops(model, target, z)[0] + film
