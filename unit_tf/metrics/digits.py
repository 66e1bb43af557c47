"""Toy digits metric (arXiv v1 App. B): distance to the known translation, colour ignored.

The toy domains are functions of the same digit (coloured strokes, coloured
edges), so every held-out digit's translation is known up to colour. The
paper reports a mean Euclidean distance but not its scale; the scale used
here is stated in `toy_digit_distances`.
"""

import numpy as np

DEFINITION = ("per test digit: Euclidean (L2) distance over the 32x32 pixels between the "
              "max over RGB channels of the translation, scaled to [0, 1], and the "
              "colour-free ground truth (unit_tf.data.toy_digits('test') a_gray / b_gray, "
              "in [0, 1]); mean over digits. Range 0 to 32 (= sqrt(32*32)); lower is better")


def toy_digit_distances(translated, target_gray):
    """Per-digit colour-free distance to the ground-truth translation.

    Definition: d_i = sqrt(sum over pixels (max_c t_i[y, x, c] - g_i[y, x])^2),
    where t_i is the translation with values in [0, 1] and g_i the colour-free
    ground truth in [0, 1] (`a_gray` / `b_gray` of `toy_digits("test")`). On
    32x32 images d_i lies in [0, 32].

    Args:
        translated: float [N, H, W, C] in [0, 1] (e.g. uint8 output / 255).
        target_gray: float [N, H, W] in [0, 1].

    Returns:
        float64 [N].
    """
    translated = np.asarray(translated, np.float64)
    target_gray = np.asarray(target_gray, np.float64)
    if translated.ndim != 4 or translated.shape[:3] != target_gray.shape:
        raise ValueError(f"translated [N, H, W, C] and target_gray [N, H, W] do not match: "
                         f"{translated.shape} vs {target_gray.shape}.")
    intensity = translated.max(axis=-1)
    return np.sqrt(((intensity - target_gray) ** 2).sum(axis=(1, 2)))


def toy_digit_distance(translated, target_gray):
    """Mean of `toy_digit_distances` over the digits (see there for the definition)."""
    return float(toy_digit_distances(translated, target_gray).mean())
