import keras

from unit_tf.layers import SpatialContext, StyleModulation
from unit_tf.networks.specs import build_layer, has_weights, scale_spec


def split_point(specs, n_shared, shared_at):
    """Index splitting `specs` so the shared side holds `n_shared` weighted layers.

    Weightless layers (pooling, flatten, dropout, a weightless latent) next to
    the boundary stay on the side they sit in when the shared part is the
    shortest one with `n_shared` weighted layers.
    """
    weighted = [i for i, spec in enumerate(specs) if has_weights(spec)]
    if shared_at == "end":
        return weighted[-n_shared] if n_shared else len(specs)
    return weighted[n_shared - 1] + 1 if n_shared else 0


@keras.saving.register_keras_serializable(package="unit_tf")
class CoupledNetwork(keras.layers.Layer):
    """Two domain branches whose first or last layers are the same objects.

    `call(x, domain="a")` runs branch A. With `shared_at="end"` (encoders,
    discriminators) the private layers come first and the shared ones last;
    with `shared_at="start"` (generators) the shared ones come first. The
    shared layers are created once (names start with `shared_`) and called by
    both branches; private layers end in `_a` / `_b`. With `share=False` the
    "shared" part is duplicated per domain: the no-weight-sharing ablation.

    Args:
        specs: layer specs (see `unit_tf.networks.specs`), already resolved
            (widths scaled, output channels set per domain via `out_channels`).
        n_shared: number of weighted layers shared by the two branches.
        shared_at: "end" or "start".
        out_channels: (channels_a, channels_b) for specs with filters=None.
        spatial_context: append x, y coordinate channels to the input.
        share: False builds two independent copies of the shared part.
        style_dim: > 0 (generators only) gives branch B a style input:
            `call(z, "b", style=s)` modulates the input of each of B's
            private layers by s (`StyleModulation`, one per layer). Not part
            of UNIT; see BUILD_NOTES "A style code for domain B".

    `call(..., return_features=True)` also returns the input of the last
    layer (discriminator features for feature matching and the class head).
    """

    def __init__(self, specs, n_shared, shared_at, out_channels=(3, 3),
                 spatial_context=False, share=True, leaky_slope=0.2,
                 latent_form="reduced", seed=None, style_dim=0, **kwargs):
        super().__init__(**kwargs)
        self.specs = [dict(s) for s in specs]
        self.n_shared = n_shared
        self.shared_at = shared_at
        self.out_channels = tuple(out_channels)
        self.spatial_context = spatial_context
        self.share = share
        self.leaky_slope = leaky_slope
        self.latent_form = latent_form
        self.seed = seed
        self.style_dim = style_dim
        if style_dim and shared_at != "start":
            raise ValueError("a style input modulates a generator (shared_at='start'), "
                             f"got shared_at={shared_at!r}.")

        cut = split_point(self.specs, n_shared, shared_at)
        if shared_at == "end":
            private_specs, shared_specs = self.specs[:cut], self.specs[cut:]
        elif shared_at == "start":
            shared_specs, private_specs = self.specs[:cut], self.specs[cut:]
        else:
            raise ValueError(f"shared_at must be 'end' or 'start', got {shared_at!r}.")
        first_private = 0 if shared_at == "end" else cut
        first_shared = cut if shared_at == "end" else 0

        def make(specs, first, prefix, suffix, domain):
            channels = self.out_channels[0 if domain == "a" else 1]
            return [build_layer(dict(s, filters=channels) if _is_image_output(s) else s,
                                f"{prefix}{first + i}{suffix}", leaky_slope, latent_form,
                                None if seed is None else seed + (domain == "b"))
                    for i, s in enumerate(specs)]

        self.private_a = make(private_specs, first_private, "layer", "_a", "a")
        self.private_b = make(private_specs, first_private, "layer", "_b", "b")
        # Sharing is literal: one list of layer objects that both branches call.
        # Each layer is owned by exactly one attribute, so no variable is
        # collected twice.
        if share:
            self.shared = make(shared_specs, first_shared, "shared_layer", "", "a")
            self.unshared_a, self.unshared_b = [], []
        else:
            self.shared = []
            self.unshared_a = make(shared_specs, first_shared, "unshared_layer", "_a", "a")
            self.unshared_b = make(shared_specs, first_shared, "unshared_layer", "_b", "b")
        self.context = SpatialContext(name="spatial_context") if spatial_context else None
        # One modulation per private layer of branch B: an instance norm
        # after a modulated layer removes the shift and keeps only what the
        # scale does through the next convolution's channel mixing, so the
        # style is given to every layer, the unnormalised output one included.
        self.style_modulations_b = [StyleModulation(name=f"style_modulation{i}_b")
                                    for i in range(len(self.private_b) if style_dim else 0)]

    def build(self, input_shape):
        # Sub-layers build on first call; UNIT.build() runs every branch once.
        self.built = True

    def shared_part(self, domain):
        """The shared layers as branch `domain` sees them (its own copy if unshared)."""
        if domain not in ("a", "b"):
            raise ValueError(f"domain must be 'a' or 'b', got {domain!r}.")
        if self.share:
            return self.shared
        return self.unshared_a if domain == "a" else self.unshared_b

    def branch(self, domain):
        """The layers branch `domain` runs, in order."""
        private = self.private_a if domain == "a" else self.private_b
        shared = self.shared_part(domain)
        return private + shared if self.shared_at == "end" else shared + private

    def call(self, x, domain="a", training=None, return_features=False, style=None):
        if self.context is not None:
            x = self.context(x)
        if style is None:
            return run_layers(self.branch(domain), x, training, return_features)
        if domain != "b" or not self.style_dim:
            raise ValueError(f"{self.name}: only branch B of a network built with style_dim "
                             f"takes a style (domain {domain!r}, style_dim {self.style_dim}).")
        return self._private_b(run_layers(self.shared_part("b"), x, training), style, training)

    def _private_b(self, h, style, training):
        # Branch B's private layers, each input modulated by the style if one is given.
        if style is None:
            return run_layers(self.private_b, h, training)
        for modulation, layer in zip(self.style_modulations_b, self.private_b):
            h = layer(modulation(h, style), training=training)
        return h

    def call_both(self, x, training=None, style_b=None):
        """Both branches on the same input, running shared leading layers once.

        Used by the generators: G_a(z) and G_b(z) share their first layers,
        so the shared part is computed once for the two translations.
        `style_b` is branch B's style (networks built with `style_dim`).
        """
        if self.shared_at != "start" or not self.share or self.context is not None:
            return self.call(x, "a", training), self.call(x, "b", training, style=style_b)
        h = run_layers(self.shared, x, training)
        return run_layers(self.private_a, h, training), self._private_b(h, style_b, training)

    def get_config(self):
        return {**super().get_config(), "specs": self.specs, "n_shared": self.n_shared,
                "shared_at": self.shared_at, "out_channels": self.out_channels,
                "spatial_context": self.spatial_context, "share": self.share,
                "leaky_slope": self.leaky_slope, "latent_form": self.latent_form,
                "seed": self.seed, "style_dim": self.style_dim}


def _is_image_output(spec):
    return spec["type"] in ("conv", "dconv") and spec["filters"] is None


def run_layers(layers, x, training=None, return_features=False):
    """Applies `layers` in order; optionally also returns the last layer's input."""
    features = x
    for layer in layers:
        features = x
        if isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.Flatten)):
            x = layer(x)
        else:
            x = layer(x, training=training)
    return (x, features) if return_features else x


def resolve_specs(specs, preset, norm_override=True):
    """Scales a preset's table widths and applies its norm override."""
    scale = preset.resolved_width / preset.table_width
    norm = (preset.norm or None) if norm_override else None
    return [scale_spec(s, scale, norm) for s in specs]
