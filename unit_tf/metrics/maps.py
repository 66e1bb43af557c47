"""Maps metrics (satellite -> map, NIPS 2017 Sec. 4) and their constant baselines.

The paper scores "pixel accuracy, a pixel correct when its colour is within
16 of the ground truth" without saying which distance, so three readings are
computed, plus RMSE and a class-level measure a constant cannot game. All
take uint8 RGB images [N, H, W, 3] (0-255); the protocol uses 256x256.

(a) `rgb_distance_16`: a pixel is correct iff the Euclidean RGB distance
    sqrt(dR^2 + dG^2 + dB^2) <= 16.
(b) `max_channel_16`: correct iff max(|dR|, |dG|, |dB|) <= 16.
(c) `max_channel_lt5`: correct iff max(|dR|, |dG|, |dB|) < 5 (GcGAN's code).
    Accuracies are per image (correct pixels / all pixels), then averaged
    over images.
    `rmse`: per image sqrt(sum over pixels and channels of diff^2 / (H*W))
    (H*W = 256*256 in the protocol: pixels, not pixel-channels), averaged
    over images. Lower is better.
(d) `map_class_miou`: every pixel of the prediction and of the ground truth
    gets the class of its nearest `PALETTE` colour (Euclidean RGB; ties go
    to the earlier palette entry). Per class, IoU = (summed intersection) /
    (summed union) over the whole set; mIoU = mean over the classes whose
    union is not empty (all 5 on the maps val set).

A single flat colour scores well on (a)-(c) because map tiles are mostly
background, so every number needs its best constant beside it:
`ConstantSearch` finds that constant for each definition.
"""

import functools

import numpy as np

# Palette read off the val maps (protocols.md): class -> its colours.
PALETTE = (
    ("land", ((242, 240, 235), (231, 228, 221))),
    ("road", ((253, 253, 250),)),
    ("park", ((203, 216, 166),)),
    ("water", ((178, 208, 250),)),
    ("highway", ((248, 160, 45), (248, 232, 104))),
)
CLASS_NAMES = tuple(name for name, _ in PALETTE)
NUM_CLASSES = len(PALETTE)

DEFINITIONS = {
    "rgb_distance_16": "(a) mean over images of the fraction of pixels whose Euclidean RGB "
                       "distance to the ground truth is <= 16 (0-255 scale)",
    "max_channel_16": "(b) mean over images of the fraction of pixels whose max-channel "
                      "absolute difference to the ground truth is <= 16",
    "max_channel_lt5": "(c) mean over images of the fraction of pixels whose max-channel "
                       "absolute difference to the ground truth is < 5 (GcGAN)",
    "rmse": "(c) mean over images of sqrt(sum over pixels and channels of diff^2 / "
            "(H*W)), H*W = 256*256; lower is better (GcGAN)",
    "map_class_miou": "(d) pixels classed by nearest palette colour (RGB distance) in "
                      "prediction and ground truth; per-class IoU = summed intersections / "
                      "summed unions over the set; mean over the 5 classes "
                      "(land, road, park, water, highway)",
}
HIGHER_IS_BETTER = {"rgb_distance_16": True, "max_channel_16": True,
                    "max_channel_lt5": True, "rmse": False, "map_class_miou": True}
PIXEL_METRICS = ("rgb_distance_16", "max_channel_16", "max_channel_lt5", "rmse")


def _batch(x, name):
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"{name} must be RGB images [N, H, W, 3] or [H, W, 3], "
                         f"got shape {x.shape}.")
    return x


def _difference(pred, target):
    pred, target = _batch(pred, "pred"), _batch(target, "target")
    if pred.shape != target.shape:
        raise ValueError(f"pred and target shapes differ: {pred.shape} vs {target.shape}.")
    return pred.astype(np.int32) - target.astype(np.int32)


def rgb_distance_accuracy(pred, target, threshold=16.0):
    """(a) Per-image fraction of pixels with Euclidean RGB distance <= threshold.

    Args:
        pred, target: uint8 RGB images [N, H, W, 3] (or one [H, W, 3]).
        threshold: distance on the 0-255 scale.

    Returns:
        float64 [N]: for each image, #{pixels: sqrt(sum_c (pred-target)^2) <=
        threshold} / (H*W).
    """
    d = _difference(pred, target)
    squared = np.einsum("nhwc,nhwc->nhw", d, d)
    return (squared <= threshold * threshold).mean(axis=(1, 2))


def max_channel_accuracy(pred, target, threshold=16, strict=False):
    """(b)/(c) Per-image fraction of pixels with max-channel |difference| within threshold.

    Args:
        pred, target: uint8 RGB images [N, H, W, 3].
        threshold: on the 0-255 scale.
        strict: False counts max_c |pred-target| <= threshold (b: 16);
            True counts < threshold (c: GcGAN's 5).

    Returns:
        float64 [N], per image #{correct pixels} / (H*W).
    """
    worst = np.abs(_difference(pred, target)).max(axis=-1)
    correct = worst < threshold if strict else worst <= threshold
    return correct.mean(axis=(1, 2))


def rmse_per_image(pred, target):
    """Per image sqrt(sum over pixels and channels of (pred-target)^2 / (H*W)).

    Returns:
        float64 [N] on the 0-255 scale (divided by the pixel count, not by
        pixels x channels, as in GcGAN's evaluation).
    """
    d = _difference(pred, target)
    h, w = d.shape[1:3]
    # int64: a 256x256 image's sum of squares overflows int32.
    return np.sqrt(np.einsum("nhwc,nhwc->n", d, d, dtype=np.int64) / float(h * w))


_PALETTE_COLOURS = np.array([c for _, cs in PALETTE for c in cs], np.int32)
_PALETTE_OWNER = np.array([k for k, (_, cs) in enumerate(PALETTE) for _ in cs], np.uint8)


@functools.lru_cache(maxsize=1)
def _class_table():
    """Class of every 24-bit RGB colour, [256, 256, 256] uint8 (16 MB, built once).

    Squared distance is a sum over channels, so per red value the distances
    of all (green, blue) pairs to the 7 palette colours are one broadcast add.
    """
    values = np.arange(256, dtype=np.int32)
    r, g, b = ((values[:, None] - _PALETTE_COLOURS[None, :, c]) ** 2 for c in range(3))
    green_blue = g[:, None, :] + b[None, :, :]
    table = np.empty((256, 256, 256), np.uint8)
    for red in range(256):
        # argmin takes the first minimum: ties go to the earlier palette colour.
        table[red] = _PALETTE_OWNER[(green_blue + r[red]).argmin(axis=-1)]
    return table


def _codes(images):
    images = np.asarray(images)
    return ((images[..., 0].astype(np.int32) << 16) | (images[..., 1].astype(np.int32) << 8)
            | images[..., 2].astype(np.int32))


def map_classes(images):
    """uint8 RGB [..., 3] -> uint8 class index [...] (nearest `PALETTE` colour).

    Nearest by Euclidean RGB distance over all 7 palette colours; a tie goes
    to the colour listed first in `PALETTE`.
    """
    images = np.asarray(images)
    return _class_table()[images[..., 0], images[..., 1], images[..., 2]]


def _class_pairs(pred, target):
    """Flat int64 index i * NUM_CLASSES + j of every pixel: class i in `pred`, j in `target`."""
    return (map_classes(pred).astype(np.int64) * NUM_CLASSES + map_classes(target)).ravel()


def _per_pair(pairs, weights=None):
    """Sums `weights` (default: counts) over the pixels of each (pred, target) class pair."""
    return np.bincount(pairs, weights=weights, minlength=NUM_CLASSES ** 2).reshape(
        NUM_CLASSES, NUM_CLASSES)


def class_confusion(pred, target):
    """5x5 int64 counts: [i, j] = #pixels classed i in `pred` and j in `target`."""
    return _per_pair(_class_pairs(pred, target))


def iou_from_confusion(confusion):
    """(mIoU, {class: IoU or None}) from a summed `class_confusion`.

    IoU_k = confusion[k, k] / (row_k + column_k - confusion[k, k]); a class
    with an empty union (in neither image set) is None and left out of the
    mean.
    """
    confusion = np.asarray(confusion, np.float64)
    intersection = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - intersection
    per_class = {name: (float(intersection[k] / union[k]) if union[k] else None)
                 for k, name in enumerate(CLASS_NAMES)}
    present = [v for v in per_class.values() if v is not None]
    return (float(np.mean(present)) if present else float("nan")), per_class


def class_flow(confusion):
    """{true class: {predicted class: share}} from a summed `class_confusion`.

    Each ground-truth class's pixels, split by the class the prediction gives
    them (each row sums to 1); a class absent from the ground truth is None.
    This shows what a class was painted as, e.g. water drawn as park.
    """
    confusion = np.asarray(confusion, np.float64)
    totals = confusion.sum(0)
    return {truth: ({pred: float(confusion[i, j] / totals[j])
                     for i, pred in enumerate(CLASS_NAMES)} if totals[j] else None)
            for j, truth in enumerate(CLASS_NAMES)}


ERROR_BY_CLASS = (
    "per ground-truth class (nearest palette colour of the true map): share = its share "
    "of all pixels; mse = the mean over its pixels of the squared RGB error (summed over "
    "channels, 0-255 scale); contribution = share x mse, split in by_painted_class by the "
    "class the prediction gives those pixels. The contributions sum to the squared error "
    "per pixel over the whole set, whose root is the pooled RMSE (the rmse metric "
    "averages per-image roots instead). shade_by_painted_class is the part of each "
    "by_painted_class contribution that a constant colour offset per image explains (the "
    "squared mean error of those pixels in each image); the rest is texture")


def error_by_class(squared_error, confusion, shade_error):
    """Where the squared error lies, by true and painted class (`ERROR_BY_CLASS`).

    Args:
        squared_error: [NUM_CLASSES, NUM_CLASSES] squared RGB error summed
            over the pixels the prediction puts in class i whose ground truth
            is class j (the layout of `class_confusion`).
        confusion: the summed `class_confusion` of the same pixels.
        shade_error: same layout: the part of `squared_error` that each
            image's mean error over those pixels explains.

    Returns:
        {true class: {"share", "mse", "contribution", "by_painted_class":
        {painted class: contribution}, "shade_by_painted_class": {painted
        class: contribution}}}; mse is None for an absent class.
    """
    squared_error = np.asarray(squared_error, np.float64)
    class_pixels = np.asarray(confusion).sum(0)
    total = max(int(class_pixels.sum()), 1)
    out = {}
    for j, name in enumerate(CLASS_NAMES):
        column = squared_error[:, j]
        out[name] = {"share": float(class_pixels[j] / total),
                     "mse": float(column.sum() / class_pixels[j]) if class_pixels[j] else None,
                     "contribution": float(column.sum() / total),
                     "by_painted_class": {painted: float(column[i] / total)
                                          for i, painted in enumerate(CLASS_NAMES)},
                     "shade_by_painted_class": {painted: float(shade_error[i, j] / total)
                                                for i, painted in enumerate(CLASS_NAMES)}}
    return out


def _shade_error(pairs, difference):
    """[NUM_CLASSES, NUM_CLASSES] sum over images of count x |mean error|^2 per class pair."""
    n = len(difference)
    groups = np.repeat(np.arange(n, dtype=np.int64) * NUM_CLASSES ** 2,
                       pairs.size // n) + pairs
    counts = np.bincount(groups, minlength=n * NUM_CLASSES ** 2)
    sums = [np.bincount(groups, weights=difference[..., c].ravel(),
                        minlength=n * NUM_CLASSES ** 2) for c in range(3)]
    shade = sum(s * s for s in sums) / np.maximum(counts, 1)
    return shade.reshape(n, NUM_CLASSES, NUM_CLASSES).sum(0)


class MapScores:
    """Accumulates the maps metrics over chunks of (prediction, ground truth).

    Args:
        metrics: which of `DEFINITIONS` to compute (default all).

    Examples:
        >>> scores = MapScores()
        >>> for pred, gt in chunks:
        ...     scores.update(pred, gt)
        >>> scores.result()["rgb_distance_16"]
    """

    def __init__(self, metrics=tuple(DEFINITIONS)):
        unknown = set(metrics) - set(DEFINITIONS)
        if unknown:
            raise ValueError(f"unknown maps metrics {sorted(unknown)}; known: "
                             f"{sorted(DEFINITIONS)}.")
        self.metrics = tuple(metrics)
        self.per_image = {name: [] for name in self.metrics if name in PIXEL_METRICS}
        # All [predicted class, true class]; the errors only with rmse.
        self.confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
        self.squared_error = np.zeros((NUM_CLASSES, NUM_CLASSES), np.float64)
        self.shade_error = np.zeros((NUM_CLASSES, NUM_CLASSES), np.float64)
        self.num_images = 0

    def update(self, pred, target):
        """Adds a chunk: uint8 [n, H, W, 3] predictions and ground truths."""
        pred, target = _batch(pred, "pred"), _batch(target, "target")
        functions = {
            "rgb_distance_16": lambda: rgb_distance_accuracy(pred, target, 16.0),
            "max_channel_16": lambda: max_channel_accuracy(pred, target, 16),
            "max_channel_lt5": lambda: max_channel_accuracy(pred, target, 5, strict=True),
            "rmse": lambda: rmse_per_image(pred, target),
        }
        for name in self.per_image:
            self.per_image[name].append(functions[name]())
        if "map_class_miou" in self.metrics or "rmse" in self.metrics:
            pairs = _class_pairs(pred, target)
            self.confusion += _per_pair(pairs)
            if "rmse" in self.metrics:
                d = _difference(pred, target)
                self.squared_error += _per_pair(
                    pairs, weights=np.einsum("nhwc,nhwc->nhw", d, d).ravel())
                self.shade_error += _shade_error(pairs, d)
        self.num_images += len(target)

    def result(self):
        """{metric: value} over everything added; "class_iou" holds the per-class IoUs,
        "class_flow" what each true class was painted as (`class_flow`), and
        with rmse "error_by_class" where the squared error lies (`ERROR_BY_CLASS`)."""
        out = {name: float(np.concatenate(values).mean()) if values else float("nan")
               for name, values in self.per_image.items()}
        if "map_class_miou" in self.metrics:
            out["map_class_miou"], out["class_iou"] = iou_from_confusion(self.confusion)
            out["class_flow"] = class_flow(self.confusion)
        if "rmse" in self.metrics:
            out["error_by_class"] = error_by_class(self.squared_error, self.confusion,
                                                   self.shade_error)
        out["num_images"] = self.num_images
        return out


# ---- constant baselines ----------------------------------------------------------
# (metric, distance kind, threshold, strict) of the indicator definitions.
_INDICATORS = (("rgb_distance_16", "euclidean", 16, False),
               ("max_channel_16", "box", 16, False),
               ("max_channel_lt5", "box", 5, True))
_COARSE_BIN = 4       # coarse histogram bin width (RGB units)
_COARSE_CANDIDATES = 4


def _runs(kind, radius, strict):
    """{(i, j): half-length L} describing a ball/box of `radius` as runs along axis 2."""
    r = int(np.floor(radius))
    if strict and r == radius:
        r -= 1
    runs = {}
    for i in range(-r, r + 1):
        for j in range(-r, r + 1):
            if kind == "box":
                runs[i, j] = r
            else:
                left = radius * radius - i * i - j * j
                if left < 0 or (strict and left == 0):
                    continue
                length = int(np.floor(np.sqrt(left)))
                if strict and length * length == left:
                    length -= 1
                runs[i, j] = length
    return runs


def _region_sums(hist, runs, start=(0, 0, 0), stop=None):
    """For every cell c in [start, stop) of a 3D histogram, the total over c + region.

    The region is given as runs along axis 2 (see `_runs`), summed with a
    cumulative sum, so the cost is (#runs) x (#cells asked for).
    """
    stop = hist.shape if stop is None else stop
    (s0, s1, s2), (e0, e1, e2) = start, stop
    pad = max(max(abs(i), abs(j), length) for (i, j), length in runs.items())
    padded = np.pad(hist, pad)
    cumulative = np.concatenate(
        [np.zeros(padded.shape[:2] + (1,)), np.cumsum(padded, axis=2)], axis=2)
    out = np.zeros((e0 - s0, e1 - s1, e2 - s2))
    for (i, j), length in runs.items():
        rows = cumulative[pad + i + s0:pad + i + e0, pad + j + s1:pad + j + e1]
        out += (rows[:, :, pad + length + 1 + s2:pad + length + 1 + e2]
                - rows[:, :, pad - length + s2:pad - length + e2])
    return out


def _histogram(colours, weights, lo, shape, width=1):
    cells = (colours - lo) // width
    flat = np.ravel_multi_index(cells.T, shape)
    return np.bincount(flat, weights=weights, minlength=int(np.prod(shape))).reshape(shape)


def best_indicator_constant(colours, weights, kind, threshold, strict=False):
    """The integer RGB colour c maximising sum of weights of colours within threshold of c.

    Coarse to fine: region sums of a histogram with 4-wide bins pick the
    best few areas, then region sums of a full-resolution histogram around
    each settle the exact colour. Exact for the given sample.

    Args:
        colours: int [M, 3] (distinct) pixel colours; weights: [M] counts.
        kind: "euclidean" (ball) or "box" (max-channel).
        threshold: the radius; `strict` makes the boundary exclusive.

    Returns:
        ((r, g, b), score) with score the weighted fraction of the sample.
    """
    colours = np.asarray(colours, np.int64)
    weights = np.asarray(weights, np.float64)
    total = weights.sum()
    b = _COARSE_BIN
    coarse = _histogram(colours, weights, 0, (256 // b,) * 3, b)
    coarse_scores = _region_sums(coarse, _runs(kind, threshold / b, False))
    picked = []
    for flat in np.argsort(coarse_scores.ravel())[::-1]:
        cell = np.array(np.unravel_index(flat, coarse.shape))
        if all(np.abs(cell - p).max() > 1 for p in picked):
            picked.append(cell)
        if len(picked) == _COARSE_CANDIDATES or coarse_scores.ravel()[flat] == 0:
            break
    runs = _runs(kind, threshold, strict)
    reach = int(np.ceil(threshold))
    best, best_score = (0, 0, 0), -1.0
    for cell in picked:
        # Candidates: the coarse cell and its neighbours; the local histogram
        # must also hold every colour that can count for them.
        cand_lo = np.clip(cell * b - b, 0, 255)
        cand_hi = np.clip(cell * b + 2 * b - 1, 0, 255)
        lo, hi = cand_lo - reach, cand_hi + reach
        inside = np.all((colours >= lo) & (colours <= hi), axis=1)
        shape = tuple(int(v) for v in hi - lo + 1)
        local = _histogram(colours[inside], weights[inside], lo, shape)
        window = _region_sums(local, runs, tuple(cand_lo - lo), tuple(cand_hi - lo + 1))
        k = np.unravel_index(np.argmax(window), window.shape)
        if window[k] > best_score:
            best_score = float(window[k])
            best = tuple(int(v) for v in cand_lo + np.array(k))
    return best, best_score / total


def mean_rmse_of_constant(colour, means, spreads):
    """Mean over images of RMSE to a constant colour, from per-image statistics.

    For an image with mean colour m and spread v = mean over pixels of
    ||x - m||^2, sum_p ||x_p - c||^2 / (H*W) = ||m - c||^2 + v exactly.
    """
    c = np.asarray(colour, np.float64)
    return float(np.sqrt(((means - c) ** 2).sum(-1) + spreads).mean())


def best_rmse_constant(means, spreads, iterations=200):
    """The integer colour minimising mean per-image RMSE (convex; Weiszfeld-like steps).

    Args:
        means: float [N, 3] per-image mean colours; spreads: [N] per-image
            mean squared distance to that mean.

    Returns:
        ((r, g, b), mean RMSE).
    """
    means = np.asarray(means, np.float64)
    spreads = np.asarray(spreads, np.float64)
    c = means.mean(0)
    for _ in range(iterations):
        w = 1.0 / np.sqrt(((means - c) ** 2).sum(-1) + spreads + 1e-12)
        c = (w[:, None] * means).sum(0) / w.sum()
    base = np.round(c).astype(int)
    offsets = np.stack(np.meshgrid(*[np.arange(-2, 3)] * 3, indexing="ij"), -1).reshape(-1, 3)
    candidates = np.clip(base + offsets, 0, 255)
    scores = [mean_rmse_of_constant(k, means, spreads) for k in candidates]
    best = int(np.argmin(scores))
    return tuple(int(v) for v in candidates[best]), float(scores[best])


class ConstantSearch:
    """Finds the best constant-colour "translation" for every maps definition.

    Feed it the ground-truth maps chunk by chunk with `add`; `search` then
    returns one colour per definition. The indicator definitions (a)-(c) are
    searched on a uniform random sample of `samples_per_image` pixels per
    image (for a constant prediction on same-size images, the mean of
    per-image accuracies equals the pooled pixel accuracy, so the sample is
    unbiased); RMSE is minimised exactly from per-image means and spreads;
    mIoU's constant is the palette colour of the class that scores best when
    painted everywhere (usually "land"), computed exactly from the class
    counts. Evaluate the found colours on all pixels with `MapScores` for the
    reported baseline.

    Args:
        samples_per_image: pixels sampled per image for (a)-(c).
        seed: seed of the pixel sampling.
    """

    def __init__(self, samples_per_image=4096, seed=0):
        self.samples_per_image = samples_per_image
        self.rng = np.random.RandomState(seed)
        self._codes = []
        self._means, self._spreads = [], []
        self.class_counts = np.zeros(NUM_CLASSES, np.int64)

    def add(self, targets):
        """Adds ground-truth maps, uint8 [n, H, W, 3]."""
        targets = _batch(targets, "targets")
        n, h, w, _ = targets.shape
        flat = targets.reshape(n, h * w, 3)
        k = min(self.samples_per_image, h * w)
        for image in flat:
            pick = self.rng.choice(h * w, size=k, replace=False) if k < h * w else slice(None)
            self._codes.append(_codes(image[pick]))
            pixels = image.astype(np.float64)
            mean = pixels.mean(0)
            self._means.append(mean)
            self._spreads.append(((pixels - mean) ** 2).sum(-1).mean())
        self.class_counts += np.bincount(map_classes(targets).ravel(),
                                         minlength=NUM_CLASSES)

    def search(self):
        """{metric: {"colour": (r, g, b), "search_score": float}} (plus "class" for mIoU).

        search_score is the value on the search sample (or exact, for rmse
        and mIoU); evaluate the colours on all pixels for the baseline.
        """
        if not self._means:
            raise ValueError("ConstantSearch.search: no ground-truth maps were added.")
        codes, counts = np.unique(np.concatenate(self._codes), return_counts=True)
        colours = np.stack([codes >> 16, (codes >> 8) & 255, codes & 255], -1)
        out = {}
        for name, kind, threshold, strict in _INDICATORS:
            colour, score = best_indicator_constant(colours, counts, kind, threshold, strict)
            out[name] = {"colour": colour, "search_score": score}
        colour, score = best_rmse_constant(np.array(self._means), np.array(self._spreads))
        out["rmse"] = {"colour": colour, "search_score": score}
        out["map_class_miou"] = self.best_class_constant()
        return out

    def best_class_constant(self):
        """The class whose palette colour, painted everywhere, has the best mIoU."""
        best = None
        total = self.class_counts.sum()
        for k, (name, colours) in enumerate(PALETTE):
            confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
            confusion[k] = self.class_counts
            miou, per_class = iou_from_confusion(confusion)
            if best is None or miou > best["search_score"]:
                best = {"colour": tuple(colours[0]), "class": name, "search_score": miou,
                        "class_iou": per_class}
        best["class_share"] = {name: float(self.class_counts[k] / total)
                               for k, name in enumerate(CLASS_NAMES)}
        return best


def score_constants(colours, target_chunks):
    """Scores constant-colour predictions on all pixels of the ground-truth chunks.

    Args:
        colours: {metric: (r, g, b)} for metrics of `DEFINITIONS`, e.g. the
            colours `ConstantSearch.search` found.
        target_chunks: an iterable of uint8 [n, H, W, 3] ground-truth maps
            (one pass).

    Returns:
        {metric: `MapScores.result()` of painting every pixel that metric's
        colour}, e.g. out["rmse"]["rmse"] and out["rmse"]["error_by_class"].
    """
    scores = {name: MapScores(metrics=(name,)) for name in colours}
    for target in target_chunks:
        target = _batch(target, "target")
        for name, colour in colours.items():
            constant = np.broadcast_to(np.asarray(colour, np.uint8), target.shape)
            scores[name].update(constant, target)
    return {name: score.result() for name, score in scores.items()}
