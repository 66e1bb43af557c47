import keras
from keras import ops


@keras.saving.register_keras_serializable(package="unit_tf")
class SpatialContext(keras.layers.Layer):
    """Appends normalised x and y coordinate channels in [-1, 1).

    NIPS 2017 App. B ("spatial context"): a 3-channel image becomes 5 channels
    (image, x, y). Column j of a width-W image gets x = -1 + 2j/W.
    """

    def call(self, x):
        shape = ops.shape(x)
        h, w = shape[1], shape[2]
        ys = -1.0 + 2.0 * ops.cast(ops.arange(h), self.compute_dtype) / ops.cast(h, self.compute_dtype)
        xs = -1.0 + 2.0 * ops.cast(ops.arange(w), self.compute_dtype) / ops.cast(w, self.compute_dtype)
        grid_x = ops.broadcast_to(ops.reshape(xs, (1, 1, -1, 1)), (shape[0], h, w, 1))
        grid_y = ops.broadcast_to(ops.reshape(ys, (1, -1, 1, 1)), (shape[0], h, w, 1))
        return ops.concatenate([ops.cast(x, self.compute_dtype), grid_x, grid_y], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], None if input_shape[-1] is None else input_shape[-1] + 2)
