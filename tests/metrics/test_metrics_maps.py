"""Maps metrics against hand-computed values, and the constant-baseline search."""

import os

import numpy as np
import pytest

from unit_tf.metrics import maps as m

LAND, ROAD, PARK, WATER, HIGHWAY = ((242, 240, 235), (253, 253, 250), (203, 216, 166),
                                    (178, 208, 250), (248, 160, 45))


def hand_pair():
    """Two 2x2 images; the first has one pixel of each interesting kind."""
    target = np.full((2, 2, 2, 3), 100, np.uint8)
    pred = target.copy()
    pred[0, 0, 1] = (116, 100, 100)   # RGB distance 16, max-channel 16
    pred[0, 1, 0] = (110, 110, 110)   # RGB distance sqrt(300) = 17.3, max-channel 10
    pred[0, 1, 1] = (104, 96, 100)    # RGB distance sqrt(32) = 5.7, max-channel 4
    return pred, target


def test_pixel_accuracies_by_hand():
    pred, target = hand_pair()
    np.testing.assert_allclose(m.rgb_distance_accuracy(pred, target), [0.75, 1.0])
    np.testing.assert_allclose(m.max_channel_accuracy(pred, target, 16), [1.0, 1.0])
    np.testing.assert_allclose(m.max_channel_accuracy(pred, target, 5, strict=True),
                               [0.5, 1.0])
    # A max-channel difference of exactly 16 is inside (b) but 5 is outside (c).
    np.testing.assert_allclose(m.max_channel_accuracy(pred, target, 4, strict=False),
                               [0.5, 1.0])


def test_rmse_by_hand():
    pred, target = hand_pair()
    expected = np.sqrt((0 + 16 ** 2 + 3 * 10 ** 2 + 2 * 4 ** 2) / 4.0)
    np.testing.assert_allclose(m.rmse_per_image(pred, target), [expected, 0.0])
    big = np.zeros((1, 256, 256, 3), np.uint8)
    np.testing.assert_allclose(m.rmse_per_image(big + 255, big), [255 * np.sqrt(3)])


def test_scores_average_per_image():
    pred, target = hand_pair()
    scores = m.MapScores()
    scores.update(pred[:1], target[:1])
    scores.update(pred[1:], target[1:])
    out = scores.result()
    assert out["num_images"] == 2
    assert out["rgb_distance_16"] == pytest.approx(0.875)
    assert out["max_channel_lt5"] == pytest.approx(0.75)


def test_palette_classes():
    colours = np.array([LAND, (231, 228, 221), ROAD, PARK, WATER, HIGHWAY, (248, 232, 104),
                        (180, 205, 245), (0, 0, 0)], np.uint8)
    # Black is nearer the orange highway (248, 160, 45) than the blue water.
    assert list(m.map_classes(colours)) == [0, 0, 1, 2, 3, 4, 4, 3, 4]


def test_classes_match_brute_force_nearest_colour():
    colours = np.random.RandomState(0).randint(0, 256, (5000, 3))
    palette = np.array([c for _, cs in m.PALETTE for c in cs])
    owner = np.array([k for k, (_, cs) in enumerate(m.PALETTE) for _ in cs])
    nearest = owner[((colours[:, None] - palette[None]) ** 2).sum(-1).argmin(1)]
    np.testing.assert_array_equal(m.map_classes(colours.astype(np.uint8)), nearest)


def land_share_example():
    """12 pixels: 6 land, 2 road, 1 park, 2 water, 1 highway."""
    row = [LAND] * 6 + [ROAD] * 2 + [PARK] + [WATER] * 2 + [HIGHWAY]
    return np.array(row, np.uint8).reshape(1, 3, 4, 3)


def test_all_land_miou_is_land_share_over_five():
    target = land_share_example()
    pred = np.broadcast_to(np.array(LAND, np.uint8), target.shape)
    miou, per_class = m.iou_from_confusion(m.class_confusion(pred, target))
    assert per_class == {"land": 0.5, "road": 0.0, "park": 0.0, "water": 0.0, "highway": 0.0}
    assert miou == pytest.approx(0.5 / 5)
    search = m.ConstantSearch()
    search.add(target)
    best = search.best_class_constant()
    assert best["class"] == "land" and best["search_score"] == pytest.approx(0.1)
    assert best["class_share"]["land"] == pytest.approx(0.5)


def test_iou_by_hand_and_empty_classes():
    target = np.array([[LAND, LAND, ROAD, ROAD]], np.uint8)[None]
    pred = np.array([[LAND, ROAD, ROAD, ROAD]], np.uint8)[None]
    miou, per_class = m.iou_from_confusion(m.class_confusion(pred, target))
    assert per_class["land"] == pytest.approx(1 / 2)     # 1 / (2 + 1 - 1)
    assert per_class["road"] == pytest.approx(2 / 3)     # 2 / (2 + 3 - 2)
    assert per_class["park"] is None                     # in neither: left out
    assert miou == pytest.approx((1 / 2 + 2 / 3) / 2)
    flow = m.class_flow(m.class_confusion(pred, target))
    assert flow["land"]["land"] == pytest.approx(0.5) and flow["land"]["road"] == pytest.approx(0.5)
    assert flow["road"]["road"] == pytest.approx(1.0)
    assert flow["park"] is None                          # not in the ground truth


def test_error_by_class_splits_the_squared_error_by_true_class():
    target = np.array([[LAND, LAND, ROAD, ROAD]], np.uint8)[None]
    pred = np.array([[LAND, ROAD, ROAD, ROAD]], np.uint8)[None]
    scores = m.MapScores()
    scores.update(pred, target)
    result = scores.result()
    wrong = float(np.sum(np.subtract(ROAD, LAND) ** 2))     # one land pixel painted road
    land, road = result["error_by_class"]["land"], result["error_by_class"]["road"]
    assert (land["share"], land["mse"], land["contribution"]) == pytest.approx(
        (0.5, wrong / 2, wrong / 4))
    assert land["by_painted_class"]["road"] == pytest.approx(wrong / 4)   # all of it
    assert land["by_painted_class"]["land"] == 0.0
    assert (road["share"], road["mse"], road["contribution"]) == (0.5, 0.0, 0.0)
    assert result["error_by_class"]["park"]["mse"] is None  # no park pixels
    # One image: the pooled root equals the per-image RMSE.
    pooled = sum(e["contribution"] for e in result["error_by_class"].values())
    assert np.sqrt(pooled) == pytest.approx(result["rmse"])


def two_cluster_maps():
    """4 maps of 16x16: 60% colour P, 30% colour Q (30 apart in blue), 10% black."""
    p, q = (100, 150, 200), (100, 150, 230)
    pixels = [p] * 154 + [q] * 77 + [(0, 0, 0)] * 25
    rng = np.random.RandomState(0)
    return np.stack([np.array(pixels, np.uint8)[rng.permutation(256)].reshape(16, 16, 3)
                     for _ in range(4)])


def test_constant_search_finds_the_known_optimum():
    maps = two_cluster_maps()
    search = m.ConstantSearch(samples_per_image=256)  # every pixel: the search is exact
    search.add(maps)
    found = search.search()
    share_pq = (154 + 77) / 256.0
    # (a) and (b): a colour midway covers both clusters; no colour covers black too.
    for name in ("rgb_distance_16", "max_channel_16"):
        assert found[name]["search_score"] == pytest.approx(share_pq)
    r, g, b = found["rgb_distance_16"]["colour"]
    assert (r - 100) ** 2 + (g - 150) ** 2 + (b - 200) ** 2 <= 256
    assert (r - 100) ** 2 + (g - 150) ** 2 + (b - 230) ** 2 <= 256
    # (c): within 4 of one cluster only; the bigger one wins.
    assert found["max_channel_lt5"]["search_score"] == pytest.approx(154 / 256.0)
    assert np.abs(np.subtract(found["max_channel_lt5"]["colour"], (100, 150, 200))).max() < 5
    # On all pixels the found constants score what the search said.
    colours = {k: v["colour"] for k, v in found.items() if k in m.PIXEL_METRICS}
    scored = m.score_constants(colours, [maps[:2], maps[2:]])
    for name in ("rgb_distance_16", "max_channel_16", "max_channel_lt5", "rmse"):
        assert scored[name][name] == pytest.approx(found[name]["search_score"])


def test_rmse_constant_is_the_minimum():
    maps = two_cluster_maps()
    search = m.ConstantSearch()
    search.add(maps)
    found = search.search()["rmse"]
    colour, score = found["colour"], found["search_score"]
    for step in np.eye(3, dtype=int):
        for sign in (-1, 1):
            neighbour = np.clip(np.add(colour, sign * step), 0, 255)
            assert (m.score_constants({"rmse": neighbour}, [maps])["rmse"]["rmse"]
                    >= score - 1e-9)


def test_shape_errors():
    with pytest.raises(ValueError, match="shapes differ"):
        m.rgb_distance_accuracy(np.zeros((1, 2, 2, 3)), np.zeros((1, 2, 3, 3)))
    with pytest.raises(ValueError, match="RGB images"):
        m.rmse_per_image(np.zeros((2, 2)), np.zeros((2, 2)))


def test_shade_is_the_per_image_mean_offset_and_texture_the_rest():
    rng = np.random.RandomState(0)
    target = np.tile(np.array(LAND, np.uint8), (2, 8, 8, 1))
    target = (target.astype(int) + rng.randint(-2, 3, target.shape)).astype(np.uint8)
    shifted = target.astype(int) + np.array([[[[3, -2, 4]]], [[[-1, 0, 2]]]])  # per image
    checker = np.where((np.arange(8)[:, None] + np.arange(8)) % 2, 5, -5)[None, ..., None]
    for pred, shade, texture in ((shifted, (29 + 5) / 2, 0.0),
                                 (target + checker * [1, 0, 0], 0.0, 25.0)):
        scores = m.MapScores()
        scores.update(pred.astype(np.uint8), target)
        land = scores.result()["error_by_class"]["land"]
        assert land["by_painted_class"]["land"] == pytest.approx(shade + texture)
        assert land["shade_by_painted_class"]["land"] == pytest.approx(shade)


def test_both_maps_protocols_evaluate_on_val(tmp_path):
    from unit_tf.metrics.evaluation import maps_eval_folder
    os.makedirs(tmp_path / "val")
    for spec in (f"maps:{tmp_path}", f"maps_cyclegan:{tmp_path}"):
        assert maps_eval_folder(spec) == os.path.join(str(tmp_path), "val")
    assert maps_eval_folder(f"pix2pix:{tmp_path}/val") == f"{tmp_path}/val"
    with pytest.raises(ValueError, match="maps_cyclegan:ROOT"):
        maps_eval_folder("mnist_toy")
