import keras
from keras import ops

FORMS = ("reduced", "full")


@keras.saving.register_keras_serializable(package="unit_tf")
class GaussianLatent(keras.layers.Layer):
    """The shared latent code z ~ q(z|x) at the end of each encoder.

    Two forms:
      * "reduced" (NIPS 2017): q(z|x) = N(mu, I). While training
        z = mu + eta with eta ~ N(0, I); at inference z = mu.
      * "full" (arXiv v1): mu and a softplus variance sigma^2 from two 1x1
        convolutions; z = mu + sigma * eta while training (reparameterised),
        z = mu at inference.

    Args:
        form: "reduced" or "full".
        filters: if set, mu (and sigma^2) come from 1x1 convolutions with this
            many channels (the tables' mu / sigma^2 rows); if None, mu is the
            input itself (NIPS Table 3, where mu is the last shared block).
        seed: seed of the noise generator, whose state is saved with the model.

    Returns a dict with "z" and "mu", plus "var" in the full form.
    Noise is drawn in the layer's compute dtype.
    """

    def __init__(self, form="reduced", filters=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if form not in FORMS:
            raise ValueError(f"{self.name}: unknown latent form {form!r}; expected one of {FORMS}.")
        if form == "full" and filters is None:
            raise ValueError(
                f"{self.name}: the full latent form needs `filters` for its mu and "
                "sigma^2 convolutions.")
        self.form = form
        self.filters = filters
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")
        self.mu_conv = None
        self.var_conv = None
        if filters is not None:
            self.mu_conv = keras.layers.Conv2D(filters, 1, name="mu")
        if form == "full":
            self.var_conv = keras.layers.Conv2D(filters, 1, activation="softplus", name="var")

    def build(self, input_shape):
        for conv in (self.mu_conv, self.var_conv):
            if conv is not None:
                conv.build(input_shape)

    def call(self, x, training=None):
        mu = self.mu_conv(x) if self.mu_conv is not None else x
        out = {"mu": mu}
        std = None
        if self.var_conv is not None:
            out["var"] = self.var_conv(x)
            std = ops.sqrt(out["var"] + 1e-8)
        if training:
            eta = keras.random.normal(ops.shape(mu), dtype=self.compute_dtype,
                                      seed=self.seed_generator)
            out["z"] = mu + (eta if std is None else std * eta)
        else:
            out["z"] = mu
        return out

    # Keras does not save a SeedGenerator's state; keep it with the weights so
    # that training resumed from a checkpoint draws the same noise.
    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["noise_seed_state"] = self.seed_generator.state.numpy()

    def load_own_variables(self, store):
        keys = list(store.keys())
        if "noise_seed_state" in keys:
            self.seed_generator.state.assign(store["noise_seed_state"])
        super().load_own_variables({k: store[k] for k in keys if k != "noise_seed_state"})

    def get_config(self):
        return {**super().get_config(), "form": self.form, "filters": self.filters,
                "seed": self.seed}
