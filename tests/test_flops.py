import keras
import pytest

import unit_tf
from unit_tf import flops


def test_conv2d_is_two_flops_per_mac_at_the_output_size():
    conv = keras.layers.Conv2D(8, 3, strides=2, padding="same")
    count, out = flops.layer_flops(conv, (2, 32, 32, 3))
    # 2 images * 16*16 outputs * 3*3*3 inputs * 8 filters * 2.
    assert out == (2, 16, 16, 8)
    assert count == 2 * 2 * 16 * 16 * 3 * 3 * 3 * 8 == 221_184


def test_transposed_conv_counts_at_the_input_size():
    dconv = keras.layers.Conv2DTranspose(4, 4, strides=2, padding="valid")
    count, out = flops.layer_flops(dconv, (1, 1, 1, 16))
    assert out == (1, 4, 4, 4)
    assert count == 2 * 1 * 1 * 4 * 4 * 16 * 4


def test_dense_and_weightless_layers():
    assert flops.layer_flops(keras.layers.Dense(10), (5, 20)) == (2 * 5 * 20 * 10, (5, 10))
    assert flops.layer_flops(keras.layers.Flatten(), (5, 2, 2, 3)) == (0, (5, 12))


def test_unknown_layer_with_weights_is_refused():
    layer = keras.layers.Embedding(10, 4)
    layer.build((None,))
    with pytest.raises(TypeError, match="Embedding"):
        flops.layer_flops(layer, (1, 3))


# The "tiny" preset at 32x32, batch 1, counted by hand (see the module docstring):
#   E = conv 3->8 k3 @32^2 (442,368) + conv 8->16 k3 s2 @16^2 (589,824)
#       + 2 res blocks 16->16 @16^2 (4 * 1,179,648)                 = 5,750,784
#   G = 2 res blocks (4,718,592) + dconv 16->8 k3 s2 from 16^2 (589,824)
#       + dconv 8->3 k1 @32^2 (49,152)                              = 5,357,568
#   decode_both = shared res block once (2,359,296) + 2 * (G - it)  = 8,355,840
#   E/G pass = 2E + 2 decode_both + (cycle) 2E + 2G                 = 50,429,952
#   D = conv 3->8 k3 s2 (110,592) + conv 8->16 k3 s2 (147,456) + 1x1 (2,048) = 260,096
TINY_E, TINY_G, TINY_D = 5_750_784, 5_357_568, 260_096
TINY_EG = 50_429_952


@pytest.fixture(scope="module")
def tiny():
    return unit_tf.UNIT("tiny")


def test_tiny_train_step_by_hand(tiny):
    c = flops.train_step_flops(tiny, 32, 1)
    assert c.eg_forward == TINY_EG
    assert c.d_step_forward == 4 * TINY_D        # reals and fakes, both domains
    assert c.d_step_backward == 8 * TINY_D
    assert c.g_step_d_forward == c.g_step_d_backward == 2 * TINY_D
    assert c.eg_backward == 2 * TINY_EG
    assert c.total == 3 * TINY_EG + 16 * TINY_D == 155_451_392


def test_tiny_scales_with_batch_and_area(tiny):
    base = flops.train_step_flops(tiny, 32, 1).total
    assert flops.train_step_flops(tiny, 32, 3).total == 3 * base
    assert flops.train_step_flops(tiny, 64, 1).total == 4 * base


def test_recomputing_the_translations_adds_what_the_d_step_needs(tiny):
    reuse = flops.train_step_flops(tiny, 32, 1)
    recompute = flops.train_step_flops(tiny, 32, 1, reuse_translations=False)
    # E_a(x_a) + E_b(x_b) + per code the shared res block and the other
    # domain's private layers (G - 2,359,296).
    assert recompute.total - reuse.total == 2 * TINY_E + 2 * TINY_G == 22_216_704


def test_translation_is_one_encoder_and_one_generator(tiny):
    assert flops.translation_flops(tiny, 32) == TINY_E + TINY_G
    assert flops.translation_flops(tiny, 64, direction="b2a") == 4 * (TINY_E + TINY_G)


def test_pytorch_padding_counts_the_padded_convolution():
    from unit_tf.layers import ConvBlock, ConvTransposeBlock

    count, out = flops.layer_flops(ConvBlock(8, 3, 2, padding=1), (1, 64, 64, 3))
    assert out == (1, 32, 32, 8) and count == 2 * 32 * 32 * 3 * 3 * 3 * 8
    count, out = flops.layer_flops(ConvTransposeBlock(4, 3, 2, padding=1, output_padding=1),
                                   (1, 16, 16, 8))
    assert out == (1, 32, 32, 4) and count == 2 * 16 * 16 * 3 * 3 * 8 * 4
    assert flops.translation_flops(unit_tf.UNIT("unit_v02", discriminators=False), 64) > 0
