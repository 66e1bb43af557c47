"""The UNIT objective terms (NIPS 2017 Eq. 2-7), computed in float32.

Each function returns a scalar. With `reduction="mean"` (the default) it is
a mean over every element, so the NIPS lambdas act on per-element averages;
with `reduction="sum"` the elements of each example (image, code or feature
map) are summed and the sums averaged over the batch, the form of the
authors' adaptation trainer (`MSELoss x C x H x W`).
"""

from keras import ops

REDUCTIONS = ("mean", "sum")


def _f32(x):
    return ops.cast(x, "float32")


def reduce_elements(values, reduction="mean"):
    """A scalar from per-element values [batch, ...]: their mean, or ("sum") the
    mean over the batch of each example's sum."""
    if reduction == "mean":
        return ops.mean(values)
    if reduction == "sum":
        return ops.mean(ops.sum(ops.reshape(values, (ops.shape(values)[0], -1)), axis=1))
    raise ValueError(f"Unknown reduction {reduction!r}; expected one of {REDUCTIONS}.")


def kl_reduced(mu, reduction="mean"):
    """KL(N(mu, I) || N(0, I)) in the authors' form: mean(mu^2).

    The exact KL is 0.5 * sum(mu^2); the constant factor and the sum-to-mean
    change are absorbed by lambda1 / lambda3.
    """
    return reduce_elements(ops.square(_f32(mu)), reduction)


def kl_full(mu, var, reduction="mean"):
    """KL(N(mu, var) || N(0, 1)) = 0.5 (mu^2 + var - log var - 1) per element,
    averaged over elements (or summed per example, "sum")."""
    mu, var = _f32(mu), _f32(var)
    return reduce_elements(0.5 * (ops.square(mu) + var - ops.log(var + 1e-8) - 1.0), reduction)


def kl_divergence(code, reduction="mean"):
    """KL of a latent dict from `GaussianLatent` (reduced or full form)."""
    if "var" in code:
        return kl_full(code["mu"], code["var"], reduction)
    return kl_reduced(code["mu"], reduction)


def l1(x, y, reduction="mean"):
    """Laplacian negative log-likelihood up to constants: mean |x - y|."""
    return reduce_elements(ops.abs(_f32(x) - _f32(y)), reduction)


def l2(x, y, reduction="mean"):
    """Gaussian negative log-likelihood up to constants: mean (x - y)^2."""
    return reduce_elements(ops.square(_f32(x) - _f32(y)), reduction)


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


def feature_matching(features_1, features_2, form="l1_mean"):
    """Distance between discriminator features of a corresponding pair (NIPS Sec. 4).

    "l1_mean": mean absolute difference over every element (this project's
    first form). "l2_sum": squared difference summed over each example's
    feature elements, averaged over the batch (the authors' adaptation
    trainer).
    """
    if form == "l1_mean":
        return l1(features_1, features_2)
    if form == "l2_sum":
        return l2(features_1, features_2, reduction="sum")
    raise ValueError(f"Unknown feature matching form {form!r}; expected 'l1_mean' or "
                     "'l2_sum'.")


def _cross_entropies(labels, logits):
    """Each example's sparse softmax cross-entropy, [batch]."""
    logits = _f32(logits)
    log_probs = logits - ops.logsumexp(logits, axis=-1, keepdims=True)
    picked = ops.take_along_axis(log_probs, ops.expand_dims(ops.cast(labels, "int32"), -1),
                                 axis=-1)
    return -picked[:, 0]


def classification(labels, logits):
    """Mean sparse softmax cross-entropy of the discriminator's class head."""
    return ops.mean(_cross_entropies(labels, logits))


def pseudo_label_classification(teacher_logits, student_logits, threshold):
    """Cross-entropy of `student_logits` against the teacher's confident labels.

    Each example's label is the argmax of `teacher_logits` (no gradient flows
    into the teacher); examples whose teacher softmax peak is below
    `threshold` contribute 0. The sum is divided by the whole batch, so the
    term grows with the share of confident examples and is 0, not NaN, when
    none is confident.
    """
    probs = ops.softmax(ops.stop_gradient(_f32(teacher_logits)), axis=-1)
    keep = ops.cast(ops.max(probs, axis=-1) >= threshold, "float32")
    return ops.mean(_cross_entropies(ops.argmax(probs, axis=-1), student_logits) * keep)


def class_balance(logits):
    """KL divergence of the batch's mean class distribution from the uniform one.

    sum_k mean_p_k log(K mean_p_k): 0 when the batch's softmax outputs average
    to 1/K for every class, log K when every example is given one class with
    certainty. It penalises a batch read as one class, not an uncertain
    example (Krause et al. 2010's class-balance part of mutual information).
    """
    mean_probs = ops.mean(ops.softmax(_f32(logits), axis=-1), axis=0)
    classes = ops.cast(ops.shape(mean_probs)[-1], "float32")
    return ops.sum(mean_probs * ops.log(ops.maximum(mean_probs * classes, 1e-12)))
