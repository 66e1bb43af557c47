import pytest

from unit_tf.networks import PRESETS, CoupledNetwork, get_preset, resolve_specs
from unit_tf.networks.coupled import split_point
from unit_tf.networks.specs import has_weights


def test_nips_table3_encodes_the_table():
    p = get_preset("nips_translation")
    assert (p.table_width, p.resolved_width, p.image_size) == (64, 64, 256)
    kinds = [s["type"] for s in p.encoder]
    assert kinds == ["conv"] * 3 + ["res"] * 4 + ["latent"]
    assert [s.get("filters") for s in p.encoder[:3]] == [64, 128, 256]
    assert p.encoder[0]["norm"] == "none" and p.encoder[0]["kernel"] == 7
    assert [s["type"] for s in p.generator] == ["res"] * 4 + ["dconv"] * 3
    assert [s["filters"] for s in p.discriminator] == [64, 128, 256, 512, 1024, 1]
    assert (p.shared_encoder, p.shared_generator, p.shared_discriminator) == (1, 1, 0)
    assert p.loss_weights["gan"] == 10 and p.loss_weights["recon"] == 100
    assert p.size_divisor == 4


def test_digits_table3_sharing_counts_layers_with_weights():
    p = get_preset("digits")
    # Encoder layers 2-4 and mu/sigma shared; generator 1-3; discriminator 2-5.
    assert split_point(list(p.encoder), p.shared_encoder, "end") == 1
    assert split_point(list(p.generator), p.shared_generator, "start") == 3
    assert split_point(list(p.discriminator), p.shared_discriminator, "end") == 1
    assert p.fixed_size and p.image_size == 32 and p.latent_form == "full"


def test_lenet_table6_private_first_conv_and_pool():
    p = get_preset("lenet")
    cut = split_point(list(p.discriminator), p.shared_discriminator, "end")
    assert [s["type"] for s in p.discriminator[:cut]] == ["conv", "maxpool"]
    assert p.num_classes == 10 and p.spatial_context and p.channels_a == 1


def test_lenet_spatial_is_lite_translation_nets_with_lenet_discriminator():
    p, lite, lenet = (get_preset(n) for n in ("lenet_spatial", "nips_translation_lite", "lenet"))
    for net in ("encoder", "generator"):
        assert resolve_specs(getattr(p, net), p) == resolve_specs(getattr(lite, net), lite)
    assert p.discriminator == lenet.discriminator and p.num_classes == 10
    assert (p.shared_encoder, p.shared_generator, p.shared_discriminator) == (1, 1, 3)
    # Two stride-2 layers: a 32x32 digit's code is an 8x8 map.
    assert p.size_divisor == 4 and p.image_size == 32 and p.fixed_size


def test_lite_halves_every_width_but_heads():
    lite = get_preset("nips_translation_lite")
    specs = resolve_specs(lite.discriminator, lite)
    assert [s["filters"] for s in specs] == [32, 64, 128, 256, 512, 1]
    assert resolve_specs(lite.generator, lite)[-1]["filters"] is None


def test_overrides_and_norm_override():
    p = get_preset("nips_translation", width=16, shared_encoder=2, norm="batch",
                   loss_weights={"gan": 1.0})
    assert p.resolved_width == 16 and p.shared_encoder == 2
    assert p.loss_weights == {**PRESETS["nips_translation"].loss_weights, "gan": 1.0}
    assert {s.get("norm") for s in resolve_specs(p.encoder, p)} == {"none", "batch", None}


@pytest.mark.parametrize("kwargs, message", [
    (dict(preset="pix2pix"), "Unknown preset 'pix2pix'; valid presets: digits"),
    (dict(preset="tiny", shared_encoder=-1), "shared_encoder must be a non-negative"),
    (dict(preset="tiny", shared_generator=9), "only 4 layers with weights"),
    (dict(preset="tiny", channels_a=0), "channels_a must be a positive"),
    (dict(preset="tiny", norm="layer"), "norm must be one of"),
    (dict(preset="tiny", depth=3), "Unknown preset field"),
    (dict(preset="tiny", loss_weights={"gann": 1.0}), "unknown loss weights"),
    (dict(preset="tiny", image_size=31), "not a multiple of 2"),
    (dict(preset="lenet", discriminator_scales=2), "single-scale"),
    (dict(preset="tiny", translate_scale=0), "translate_scale must be a positive number"),
    (dict(preset="digits", translate_scale=0.5), "translate_scale must be 1 for a fixed-size"),
])
def test_bad_configuration_is_named(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        get_preset(kwargs.pop("preset"), **kwargs)


def test_preset_dict_roundtrip():
    p = get_preset("svhn")
    assert get_preset(p.to_dict()) == p


def test_saved_config_without_translate_scale_translates_at_the_input_size():
    saved = get_preset("nips_translation_lite").to_dict()
    del saved["translate_scale"]
    assert get_preset(saved).translate_scale == 1.0


def test_saved_config_without_a_later_loss_term_loads_with_it_off():
    saved = get_preset("lenet").to_dict()
    del saved["loss_weights"]["translated_classification"]
    assert get_preset(saved).loss_weights["translated_classification"] == 0.0
    assert get_preset(saved) == get_preset("lenet")


def test_coupled_network_naming_and_sharing():
    p = get_preset("tiny")
    net = CoupledNetwork(resolve_specs(p.generator, p), 1, "start", name="g")
    a, b = net.branch("a"), net.branch("b")
    assert a[0] is b[0] and a[0].name.startswith("shared_")
    assert all(x is not y for x, y in zip(a[1:], b[1:]))
    assert [layer.name[-2:] for layer in a[1:]] == ["_a"] * 3
    unshared = CoupledNetwork(resolve_specs(p.generator, p), 1, "start", share=False)
    assert unshared.branch("a")[0] is not unshared.branch("b")[0]
    with pytest.raises(ValueError, match="domain must be 'a' or 'b'"):
        net.branch("c")
    assert sum(has_weights(s) for s in p.generator) == 4


def test_unit_v02_is_built_from_the_authors_gen_block():
    from unit_tf.networks.presets import UNIT_V02_GEN, unit_v02_networks

    p = get_preset("unit_v02")
    assert "version_02" in p.reference and "COCOResGen2" in p.reference
    assert p.resolved_width == UNIT_V02_GEN["ch"] == 64 and p.size_divisor == 4
    assert [s["type"] for s in p.encoder] == ["conv"] * 3 + ["res"] * 4 + ["latent"]
    assert [s["type"] for s in p.generator] == ["res"] * 4 + ["dconv"] * 3
    assert all(s["norm"] == "none" for s in p.encoder[:3] + p.generator[-3:])
    deeper = unit_v02_networks(dict(UNIT_V02_GEN, ch=32, n_enc_front_blk=4, n_gen_front_blk=4,
                                    n_enc_res_blk=2, n_enc_shared_blk=2, n_gen_shared_blk=0,
                                    n_gen_res_blk=1, res_dropout_ratio=0.0))
    q = get_preset("unit_v02", **deeper)
    assert [s["filters"] for s in resolve_specs(q.encoder, q)][:-1] == [32, 64, 128, 256] + [256] * 4
    assert [s.get("filters") for s in resolve_specs(q.generator, q)] == [256, 128, 64, 32, None]
    assert (q.shared_encoder, q.shared_generator, q.size_divisor) == (2, 0, 8)
    assert not any("dropout" in s for s in q.encoder + q.generator)
    # Keys the other presets never set stay out of their specs (saved configs unchanged).
    nips = get_preset("nips_translation")
    assert not any("output_padding" in s or "dropout" in s for s in nips.encoder + nips.generator)


def test_adaptation_recipes():
    authors = get_preset("lenet", recipe="authors")
    assert (authors.reconstructions_as_fakes, authors.feature_matching_form,
            authors.loss_reduction, authors.weight_decay, authors.initialization,
            authors.leaky_slope) == (True, "l2_sum", "sum", 5e-4, "authors", 0.01)
    assert authors.loss_weights["gan"] == 0.5 and authors.loss_weights["recon"] == 1e-3
    # Everything else is still the preset's; overrides apply after the recipe.
    assert authors.discriminator == get_preset("lenet").discriminator
    tuned = get_preset("lenet", recipe="authors", weight_decay=0.0,
                       loss_weights={"feature_matching": 1e-3})
    assert tuned.weight_decay == 0.0 and tuned.loss_weights["feature_matching"] == 1e-3
    assert tuned.loss_weights["classification"] == 10.0
    assert get_preset(authors.to_dict()) == authors
    assert get_preset("svhn", recipe="unit_tf") == get_preset("svhn")
    with pytest.raises(ValueError, match="valid recipes: authors, unit_tf"):
        get_preset("lenet", recipe="dann")
    with pytest.raises(ValueError, match="has no class head"):
        get_preset("digits", recipe="authors")


def test_saved_config_without_the_recipe_fields_loads_as_before():
    saved = get_preset("lenet").to_dict()
    for field in ("reconstructions_as_fakes", "feature_matching_form", "loss_reduction",
                  "weight_decay", "initialization"):
        del saved[field]
    assert get_preset(saved) == get_preset("lenet")


@pytest.mark.parametrize("field, value, message", [
    ("feature_matching_form", "l2_mean", "feature_matching_form must be one of"),
    ("loss_reduction", "max", "loss_reduction must be one of"),
    ("initialization", "he", "initialization must be one of"),
    ("weight_decay", -1e-4, "weight_decay must be at least 0"),
])
def test_bad_recipe_fields_are_named(field, value, message):
    with pytest.raises(ValueError, match=message):
        get_preset("lenet", **{field: value})
