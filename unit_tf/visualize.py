"""Sample grids: what a UNIT model does to a few images, as one uint8 picture."""

import numpy as np
from keras import ops


def to_uint8(images):
    """Floats in [-1, 1] -> uint8, 1-channel images repeated to RGB."""
    images = np.asarray(ops.convert_to_numpy(images), np.float32)
    images = np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images[..., :3]


def tile(rows, pad=2):
    """A grid from a list of rows, each a list of [H, W, 3] uint8 images."""
    h, w = rows[0][0].shape[:2]
    grid = np.full((len(rows) * (h + pad) + pad, max(map(len, rows)) * (w + pad) + pad, 3),
                   255, np.uint8)
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            y, x = pad + r * (h + pad), pad + c * (w + pad)
            grid[y:y + h, x:x + w] = image
    return grid


def sample_grid(model, x_a, x_b):
    """One column per sample; rows x_a, G_a(z_a), A->B, A->B->A, then the same for B.

    Uses the deterministic code (z = mu), so grids of one checkpoint are
    reproducible. With a style code (style_dim), A->B is drawn in the zero
    style and, in the row after it, in the style of the same column's x_b.
    """
    images, _ = model((x_a, x_b), training=False)
    order = [("a", x_a), ("aa", images["aa"]), ("ab", images["ab"])]
    if model.style_encoder is not None:
        order.append(("ab in x_b's style",
                      model.translate_a2b(x_a, style=model.encode_style(x_b[:len(x_a)]))))
    order += [("aba", images["aba"])] if "aba" in images else []
    order += [("b", x_b), ("bb", images["bb"]), ("ba", images["ba"])]
    order += [("bab", images["bab"])] if "bab" in images else []
    rows = [list(to_uint8(batch)) for _, batch in order]
    return tile(rows)
