"""The evaluation tasks end to end: data, translation, metrics, baselines.

Each function returns a JSON-ready dict holding the metric definitions next
to the numbers. `tools/evaluate.py` is a thin command line over them.

Translators are anything with `translate_a2b` / `translate_b2a` taking and
returning uint8 [N, H, W, C] (`unit_tf.translator.Translator`).
"""

import os
import time

import numpy as np

from unit_tf.data import images as img
from unit_tf.data import maps as maps_data
from unit_tf.data import mnist, sources
from unit_tf.metrics import adaptation, digits
from unit_tf.metrics import maps as maps_metrics


def _translate_fn(translator, direction):
    if direction not in ("a2b", "b2a"):
        raise ValueError(f"direction must be 'a2b' or 'b2a', got {direction!r}.")
    return getattr(translator, f"translate_{direction}")


def _in_batches(fn, x, batch_size):
    return np.concatenate([np.asarray(fn(x[i:i + batch_size]))
                           for i in range(0, len(x), batch_size)])


def maps_eval_folder(data):
    """The folder of side-by-side eval pairs: ROOT/val of maps:ROOT and maps_cyclegan:ROOT,
    DIR of pix2pix:DIR."""
    parsed = sources.parse_spec(data)
    if parsed.form in ("maps", "maps_cyclegan"):
        return maps_data.maps_val_folder(os.path.dirname(parsed.b.path))
    if parsed.form == "pix2pix":
        return parsed.a.path
    raise ValueError(f"--data {data!r}: the maps task evaluates paired halves; give "
                     "maps:ROOT or maps_cyclegan:ROOT (both use ROOT/val) or pix2pix:DIR.")


def evaluate_maps(translator, data, direction="a2b", limit=None, size=256, batch_size=4,
                  samples_per_image=4096, seed=0, log=print):
    """Maps protocol: translate val satellites, score against their maps, with baselines.

    Args:
        translator: a uint8 translator, or None for the constant baselines only.
        data: maps:ROOT (the ROOT/val pairs) or pix2pix:DIR.
        direction: "a2b" translates left halves (satellite -> map).
        limit: only the first `limit` pairs (natural file order).
        size: both halves are resized to size x size (bilinear; see
            `unit_tf.data.maps`).
        batch_size: images per translation call.
        samples_per_image, seed: pixel sampling of the constant search.
        log: progress printer (None: quiet).

    Returns:
        {"metrics": {name: {"model", "constant_baseline", "constant_colour",
        "higher_is_better", "definition"}}, "class_iou": {...},
        "num_images": N, ...}.
    """
    folder = maps_eval_folder(data)
    translate = _translate_fn(translator, direction) if translator is not None else None
    model_scores = maps_metrics.MapScores() if translate else None
    search = maps_metrics.ConstantSearch(samples_per_image, seed)
    start, num_images = time.time(), 0
    for satellite, target, _ in maps_data.iter_pairs(folder, size, limit):
        source, target = (satellite, target) if direction == "a2b" else (target, satellite)
        if translate:
            pred = _in_batches(translate, source, batch_size)
            model_scores.update(pred, target)
        search.add(target)
        num_images += len(target)
        if log:
            log(f"  {num_images} images, {time.time() - start:.0f}s")
    constants = search.search()
    # Second pass over the ground truth: each constant scored on all pixels.
    chunks = (t if direction == "a2b" else s
              for s, t, _ in maps_data.iter_pairs(folder, size, limit))
    scored = maps_metrics.score_constants(
        {name: constants[name]["colour"] for name in maps_metrics.PIXEL_METRICS}, chunks)
    baselines = {name: result[name] for name, result in scored.items()}
    miou_constant = constants["map_class_miou"]
    baselines["map_class_miou"] = miou_constant["search_score"]
    model = model_scores.result() if model_scores else {}
    metrics = {}
    for name, definition in maps_metrics.DEFINITIONS.items():
        metrics[name] = {
            "model": model.get(name),
            "constant_baseline": baselines[name],
            "constant_colour": list(constants[name]["colour"]),
            "higher_is_better": maps_metrics.HIGHER_IS_BETTER[name],
            "definition": definition,
        }
    metrics["map_class_miou"]["constant_class"] = miou_constant["class"]
    return {
        "task": "maps",
        "eval_folder": folder,
        "direction": direction,
        "image_size": size,
        "num_images": num_images,
        "metrics": metrics,
        "class_iou": {"model": model.get("class_iou"),
                      "constant_baseline": miou_constant["class_iou"]},
        "class_flow": model.get("class_flow"),
        "class_flow_definition": ("for each ground-truth class, the share of its pixels "
                                  "that the model's map puts in each class (rows sum to 1)"),
        "class_share": miou_constant["class_share"],
        "error_by_class": {"model": model.get("error_by_class"),
                           "rmse_constant": scored["rmse"]["error_by_class"]},
        "error_by_class_definition": maps_metrics.ERROR_BY_CLASS,
        "palette": {name: [list(c) for c in colours]
                    for name, colours in maps_metrics.PALETTE},
        "constant_search": ("grid search, coarse (4-wide RGB bins) then exact on a "
                            f"{samples_per_image}-pixel-per-image sample (seed {seed}) for "
                            "(a)-(c); exact from per-image mean/spread for rmse; exact "
                            "from class counts for mIoU; every constant then scored on "
                            "all pixels"),
    }


def evaluate_toy_digits(translator, limit=None, batch_size=100):
    """Toy digits (arXiv v1): colour-free distance to the known translation, both ways.

    a2b translates the held-out coloured strokes and compares with the edge
    maps (`b_gray`); b2a translates coloured edges and compares with the
    filled strokes (`a_gray`). Translations pass through uint8, as for any
    user of the translator.

    Returns:
        {"metrics": {"a2b": {"mean_distance", "std", "num_digits",
        "baseline_identity", "baseline_blank"}, "b2a": ...},
        "definition": ...}.
    """
    test = mnist.toy_digits("test")
    n = len(test["a"]) if limit is None else min(limit, len(test["a"]))
    out = {}
    for direction, source, target in (("a2b", "a", "b_gray"), ("b2a", "b", "a_gray")):
        x = sources.unit_to_uint8(test[source][:n])
        y = _in_batches(_translate_fn(translator, direction), x, batch_size)
        d = digits.toy_digit_distances(y.astype(np.float64) / 255.0, test[target][:n])
        # Two trivial translators give the scale: copying the input's shape,
        # and a black image.
        own = test["a_gray" if source == "a" else "b_gray"][:n, :, :, None]
        identity = digits.toy_digit_distances(own, test[target][:n])
        blank = digits.toy_digit_distances(np.zeros_like(own), test[target][:n])
        out[direction] = {"mean_distance": float(d.mean()), "std": float(d.std()),
                          "num_digits": int(n),
                          "baseline_identity": float(identity.mean()),
                          "baseline_blank": float(blank.mean())}
    return {"task": "digits", "metrics": out, "definition": digits.DEFINITION,
            "test_digits": "unit_tf.data.toy_digits('test'): 2,000 held-out npm MNIST "
                           "digits, the same digits in both domains"}


def _model_of(translator):
    model = getattr(translator, "model", translator)
    if not hasattr(model, "classify"):
        raise ValueError("the adaptation task needs the Keras UNIT model (its classify "
                         "method); this model source gives only a translator. Use a "
                         ".keras file.")
    return model


def _match_channels(x, channels):
    if x.shape[-1] == channels:
        return x
    if x.shape[-1] == 1 and channels == 3:
        return np.repeat(x, 3, axis=-1)
    weights = np.asarray(img.LUMINANCE, x.dtype)
    return (x * weights).sum(-1, keepdims=True)


def evaluate_adaptation(translator, data="mnist_uci", limit=None, batch_size=256):
    """Domain adaptation: accuracy of the discriminator's class head on held-out digits.

    Target accuracy uses `classify(x, "b")` on the held-out target test part
    (for mnist_uci: the 30% of UCI digits training never sees; for mnist_m:
    MNIST-M of the 2,000 test digits); source accuracy uses `classify(x, "a")`
    on the MNIST test part. Target labels are read only here. Images are
    brought to the channels the model reads for that domain (a source-only
    classifier reads the source's: an RGB target becomes gray by luminance
    for a gray source).

    A UNIT model also gets `target_accuracy_via_source`: each target image
    translated into the source domain (`translate_b2a`) and classified by the
    source branch, `classify(., "a")`.

    Returns:
        {"metrics": {"target_accuracy", "source_accuracy", "num_target",
        "num_source"[, "target_accuracy_via_source"]}, "definition": ...}.
    """
    model = _model_of(translator)
    parts = sources.eval_parts(data)
    out = {}
    for role, domain in (("target", "b"), ("source", "a")):
        x, labels = parts[role]
        if limit is not None:
            x, labels = x[:limit], labels[:limit]
        x = _match_channels(x, model.input_channels(domain))
        logits = _in_batches(lambda batch, d=domain: model.classify(batch, d), x, batch_size)
        out[f"{role}_accuracy"] = adaptation.classification_accuracy(logits, labels)
        out[f"num_{role}"] = int(len(labels))
        if role == "target" and hasattr(model, "translate_b2a"):
            # The second way UNIT can classify a target image: translate it
            # into the source domain and ask the source branch.
            logits = _in_batches(lambda batch: model.classify(model.translate_b2a(batch), "a"),
                                 x, batch_size)
            out["target_accuracy_via_source"] = adaptation.classification_accuracy(
                logits, labels)
    names = sources.domain_names(data)
    return {"task": "adaptation", "metrics": out, "definition": adaptation.DEFINITION,
            "source_domain": names[0], "target_domain": names[1]}
