"""The UNIT objective terms (NIPS 2017 Eq. 2-7), computed in float32.

Each function returns a scalar mean, so the paper's lambdas act on
per-element averages as in the authors' code.
"""

from keras import ops


def _f32(x):
    return ops.cast(x, "float32")


def kl_reduced(mu):
    """KL(N(mu, I) || N(0, I)) in the authors' form: mean(mu^2).

    The exact KL is 0.5 * sum(mu^2); the constant factor and the sum-to-mean
    change are absorbed by lambda1 / lambda3.
    """
    return ops.mean(ops.square(_f32(mu)))


def kl_full(mu, var):
    """Mean over elements of KL(N(mu, var) || N(0, 1)) = 0.5 (mu^2 + var - log var - 1)."""
    mu, var = _f32(mu), _f32(var)
    return ops.mean(0.5 * (ops.square(mu) + var - ops.log(var + 1e-8) - 1.0))


def kl_divergence(code):
    """KL of a latent dict from `GaussianLatent` (reduced or full form)."""
    return kl_full(code["mu"], code["var"]) if "var" in code else kl_reduced(code["mu"])


def l1(x, y):
    """Laplacian negative log-likelihood up to constants: mean |x - y|."""
    return ops.mean(ops.abs(_f32(x) - _f32(y)))


def l2(x, y):
    """Gaussian negative log-likelihood up to constants: mean (x - y)^2."""
    return ops.mean(ops.square(_f32(x) - _f32(y)))


LIKELIHOODS = {"l1": l1, "l2": l2}


def gan_discriminator(real_logits, fake_logits, kind="bce"):
    """Discriminator loss on logits: BCE (the paper) or least squares."""
    real, fake = _f32(real_logits), _f32(fake_logits)
    if kind == "bce":
        # -log sigmoid(real) - log(1 - sigmoid(fake))
        return ops.mean(ops.softplus(-real)) + ops.mean(ops.softplus(fake))
    if kind == "lsgan":
        return ops.mean(ops.square(real - 1.0)) + ops.mean(ops.square(fake))
    raise ValueError(f"Unknown GAN loss {kind!r}; expected 'bce' or 'lsgan'.")


def gan_generator(fake_logits, kind="bce"):
    """Generator loss on the logits of its fakes (non-saturating BCE or least squares)."""
    fake = _f32(fake_logits)
    if kind == "bce":
        return ops.mean(ops.softplus(-fake))
    if kind == "lsgan":
        return ops.mean(ops.square(fake - 1.0))
    raise ValueError(f"Unknown GAN loss {kind!r}; expected 'bce' or 'lsgan'.")


def feature_matching(features_1, features_2):
    """L1 distance between discriminator features of a corresponding pair (NIPS Sec. 4)."""
    return l1(features_1, features_2)


def classification(labels, logits):
    """Mean sparse softmax cross-entropy of the discriminator's class head."""
    logits = _f32(logits)
    log_probs = logits - ops.logsumexp(logits, axis=-1, keepdims=True)
    picked = ops.take_along_axis(log_probs, ops.expand_dims(ops.cast(labels, "int32"), -1),
                                 axis=-1)
    return -ops.mean(picked)
