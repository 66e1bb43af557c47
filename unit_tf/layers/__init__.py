"""Reusable Keras layers of the UNIT networks."""

from unit_tf.layers.conv_block import ConvBlock, ConvTransposeBlock
from unit_tf.layers.gaussian_latent import GaussianLatent
from unit_tf.layers.norms import InstanceNormalization, make_activation, make_norm
from unit_tf.layers.residual_block import ResidualBlock
from unit_tf.layers.spatial_context import SpatialContext
from unit_tf.layers.style import StyleModulation

__all__ = ["ConvBlock", "ConvTransposeBlock", "GaussianLatent", "InstanceNormalization",
           "ResidualBlock", "SpatialContext", "StyleModulation", "make_activation",
           "make_norm"]
