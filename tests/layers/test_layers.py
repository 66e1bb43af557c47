import keras
import numpy as np
import pytest
from keras import ops

from unit_tf.layers import (ConvBlock, ConvTransposeBlock, GaussianLatent,
                            InstanceNormalization, ResidualBlock, SpatialContext)


def roundtrip(layer, x):
    """Config round trip: same class, same config, same output with copied weights."""
    y = layer(x)
    clone = layer.__class__.from_config(layer.get_config())
    clone(x)
    clone.set_weights(layer.get_weights())
    assert clone.get_config() == layer.get_config()
    out, ref = clone(x), y
    if isinstance(ref, dict):
        out, ref = out["z"], ref["z"]
    np.testing.assert_allclose(ops.convert_to_numpy(out), ops.convert_to_numpy(ref), atol=1e-6)
    return y


X = np.random.RandomState(0).randn(2, 8, 8, 4).astype("float32")


@pytest.mark.parametrize("norm", ["none", "batch", "instance"])
def test_conv_block_shapes_and_config(norm):
    y = roundtrip(ConvBlock(6, 3, 2, norm=norm, activation="lrelu"), X)
    assert y.shape == (2, 4, 4, 6)


def test_conv_block_params_bias_only_without_norm():
    block = ConvBlock(6, 3, norm="none")
    block(X)
    assert block.count_params() == 4 * 6 * 9 + 6
    block = ConvBlock(6, 3, norm="instance")
    block(X)
    assert block.count_params() == 4 * 6 * 9  # affine-free instance norm, no bias


def test_conv_block_keeps_keras_weights_and_paths():
    """The zoo's weights files are keyed by these paths."""
    block = ConvBlock(6, 3, 2, norm="none", name="block")
    block(np.zeros((1, 8, 8, 4), "float32"))
    assert type(block.conv) is keras.layers.Conv2D
    assert [w.path for w in block.weights] == ["block/conv/kernel", "block/conv/bias"]


def test_instance_norm_normalises_each_image_and_channel():
    block = ConvBlock(5, 3, norm="instance", activation="none")
    y = ops.convert_to_numpy(block(X * 10 + 3))
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=(1, 2)), 1, atol=1e-2)


def test_instance_norm_matches_keras_group_norm_per_channel():
    x = X * 7 - 2
    layer = InstanceNormalization(epsilon=1e-5)
    ours = ops.convert_to_numpy(roundtrip(layer, x))
    keras_form = keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, center=False,
                                                 scale=False)
    np.testing.assert_allclose(ours, ops.convert_to_numpy(keras_form(x)), atol=1e-5)
    assert layer.count_params() == 0


def test_instance_norm_statistics_in_float32_under_bfloat16():
    layer = InstanceNormalization(dtype="mixed_bfloat16")
    y = layer(ops.cast(X * 100 + 1000, "bfloat16"))
    assert y.dtype == "bfloat16"
    # float32 statistics: bfloat16 ones (8-bit mantissa) would not centre x ~ 1000.
    np.testing.assert_allclose(ops.convert_to_numpy(ops.cast(y, "float32")).mean(axis=(1, 2)),
                               0, atol=0.05)


def test_instance_norm_needs_spatial_axes():
    with pytest.raises(ValueError, match="spatial"):
        InstanceNormalization()(np.zeros((2, 4), "float32"))


def test_conv_transpose_block_doubles():
    y = roundtrip(ConvTransposeBlock(3, 4, 2, norm="batch", activation="tanh"), X)
    assert y.shape == (2, 16, 16, 3)
    assert np.all(np.abs(ops.convert_to_numpy(y)) <= 1)


def test_valid_transpose_from_1x1_gives_4x4():
    y = ConvTransposeBlock(7, 4, 2, padding="valid")(np.zeros((1, 1, 1, 3), "float32"))
    assert y.shape == (1, 4, 4, 7)


def test_residual_block_is_identity_plus_branch():
    block = ResidualBlock(4)
    y = roundtrip(block, X)
    branch = block.conv2(block.conv1(X))
    np.testing.assert_allclose(ops.convert_to_numpy(y), X + ops.convert_to_numpy(branch),
                               atol=1e-5)


def test_residual_block_rejects_channel_change():
    with pytest.raises(ValueError, match="keeps the channel count"):
        ResidualBlock(8)(X)


def test_bad_block_arguments():
    with pytest.raises(ValueError, match="positive"):
        ConvBlock(0, 3)
    with pytest.raises(ValueError, match="Unknown norm"):
        ConvBlock(4, 3, norm="layer")
    with pytest.raises(ValueError, match="Unknown activation"):
        ConvBlock(4, 3, activation="gelu")


def test_reduced_latent_noise_only_while_training():
    layer = GaussianLatent("reduced", seed=1)
    out = layer(X, training=False)
    np.testing.assert_array_equal(ops.convert_to_numpy(out["z"]), X)
    assert "var" not in out
    z = ops.convert_to_numpy(layer(X, training=True)["z"])
    noise = z - X
    assert abs(noise.mean()) < 0.2 and abs(noise.std() - 1) < 0.2


def test_full_latent_variance_and_reparameterisation():
    layer = GaussianLatent("full", filters=16, seed=2)
    big = np.random.RandomState(1).randn(64, 4, 4, 4).astype("float32")
    out = layer(big, training=False)
    mu, var = ops.convert_to_numpy(out["mu"]), ops.convert_to_numpy(out["var"])
    assert np.all(var > 0)
    np.testing.assert_array_equal(ops.convert_to_numpy(out["z"]), mu)
    z = ops.convert_to_numpy(layer(big, training=True)["z"])
    eta = (z - mu) / np.sqrt(var + 1e-8)
    assert abs(eta.std() - 1) < 0.05
    roundtrip(layer, X)
    with pytest.raises(ValueError, match="needs `filters`"):
        GaussianLatent("full")
    with pytest.raises(ValueError, match="unknown latent form"):
        GaussianLatent("diag")


def test_spatial_context_coordinates():
    y = ops.convert_to_numpy(SpatialContext()(np.zeros((2, 4, 8, 3), "float32")))
    assert y.shape == (2, 4, 8, 5)
    np.testing.assert_allclose(y[0, 0, :, 3], -1 + 2 * np.arange(8) / 8)
    np.testing.assert_allclose(y[1, :, 5, 4], -1 + 2 * np.arange(4) / 4)
    layer = SpatialContext()
    assert SpatialContext.from_config(layer.get_config()).get_config() == layer.get_config()


def test_latent_noise_in_compute_dtype():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    layer = GaussianLatent("reduced", seed=0)
    z = layer(ops.cast(X, "bfloat16"), training=True)["z"]
    assert z.dtype == "bfloat16"


def _numpy_conv(x, kernel, stride, pad):
    """PyTorch's Conv2d by definition: zero padding `pad` on every side, no flip."""
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    k = kernel.shape[0]
    n = (xp.shape[1] - k) // stride + 1
    m = (xp.shape[2] - k) // stride + 1
    out = np.zeros((x.shape[0], n, m, kernel.shape[-1]), np.float64)
    for i in range(n):
        for j in range(m):
            patch = xp[:, i * stride:i * stride + k, j * stride:j * stride + k]
            out[:, i, j] = np.einsum("bhwc,hwco->bo", patch, kernel)
    return out


def _numpy_conv_transpose(x, kernel, stride, pad, output_pad):
    """PyTorch's ConvTranspose2d by definition: out[i*s - p + k] += x[i] w[k]."""
    k, n, m = kernel.shape[0], x.shape[1], x.shape[2]
    full = np.zeros((x.shape[0], (n - 1) * stride + k, (m - 1) * stride + k, kernel.shape[2]))
    for i in range(n):
        for j in range(m):  # Keras kernel [kH, kW, out, in]
            full[:, i * stride:i * stride + k, j * stride:j * stride + k] += np.einsum(
                "bc,hwoc->bhwo", x[:, i, j], kernel)
    size_h = (n - 1) * stride - 2 * pad + k + output_pad
    size_w = (m - 1) * stride - 2 * pad + k + output_pad
    return full[:, pad:pad + size_h, pad:pad + size_w]


def test_integer_padding_is_pytorch_zero_padding():
    block = ConvBlock(5, 3, 2, padding=1, norm="none")
    y = ops.convert_to_numpy(roundtrip(block, X))
    kernel, bias = (ops.convert_to_numpy(w) for w in block.conv.weights)
    np.testing.assert_allclose(y, _numpy_conv(X, kernel, 2, 1) + bias, atol=1e-5)
    same = ConvBlock(5, 3, 2, padding="same", norm="none")
    same(X)
    same.set_weights(block.get_weights())
    assert np.abs(ops.convert_to_numpy(same(X)) - y).max() > 1e-2  # Keras pads (0, 1)
    seven = ConvBlock(2, 7, 1, padding=3)
    assert seven(X).shape == (2, 8, 8, 2)


def test_transposed_padding_and_output_padding_are_pytorch_s():
    x = X[:, :5, :3]  # non-square
    block = ConvTransposeBlock(3, 3, 2, padding=1, output_padding=1)
    y = ops.convert_to_numpy(roundtrip(block, x))
    assert y.shape == (2, 10, 6, 3)
    kernel, bias = (ops.convert_to_numpy(w) for w in block.conv.weights)
    np.testing.assert_allclose(y, _numpy_conv_transpose(x, kernel, 2, 1, 1) + bias, atol=1e-5)
    assert block.compute_output_shape((None, 5, 3, 4)) == (None, 10, 6, 3)


def test_residual_block_dropout_trains_only_and_keeps_its_noise_state():
    block = ResidualBlock(4, dropout=0.5)
    y = roundtrip(block, X)
    np.testing.assert_array_equal(ops.convert_to_numpy(block(X)), ops.convert_to_numpy(y))
    trained = ops.convert_to_numpy(block(X, training=True))
    assert np.abs(trained - ops.convert_to_numpy(y)).max() > 0.1
    store = {}
    block.save_own_variables(store)
    clone = ResidualBlock(4, dropout=0.5)
    clone(X)
    clone.load_own_variables(store)
    np.testing.assert_array_equal(clone.drop.seed_generator.state.numpy(),
                                  block.drop.seed_generator.state.numpy())
    assert ResidualBlock(4).drop is None


def test_bad_padding_arguments():
    with pytest.raises(ValueError, match="padding must be 'same', 'valid' or a non-negative"):
        ConvBlock(4, 3, padding="reflect")
    with pytest.raises(ValueError, match="padding must be"):
        ConvBlock(4, 3, padding=-1)
    with pytest.raises(ValueError, match="output_padding=1 needs a transposed convolution"):
        ConvBlock(4, 3, 2, padding=1, output_padding=1)
    with pytest.raises(ValueError, match="output_padding=2 needs"):
        ConvTransposeBlock(4, 3, 2, padding=1, output_padding=2)
    with pytest.raises(ValueError, match="output_padding=1 needs"):
        ConvTransposeBlock(4, 3, 2, padding="same", output_padding=1)
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        ResidualBlock(4, dropout=1.0)
