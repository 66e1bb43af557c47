"""In-graph pre/postprocessing shared by the SavedModel and TFLite exports.

Everything here is plain TensorFlow so the exported graphs need neither
unit_tf nor Keras to run: uint8 images in, the preset's size handling
(a resize by its `translate_scale`, reflect padding to the size divisor,
then a crop and a resize back), the model's
deterministic translation, and uint8 images out, rounded exactly like
`unit_tf.translator.Translator` so the three paths agree to the level.
"""

import tensorflow as tf

from unit_tf.translator import Translator, resize_images, scaled_size

DIRECTIONS = ("a2b", "b2a")


def unpack(model_or_translator):
    """(model, domain_a, domain_b) from a `UNIT` or a `Translator`."""
    if isinstance(model_or_translator, Translator):
        t = model_or_translator
        return t.model, t.domain_a, t.domain_b
    model = model_or_translator
    if not (hasattr(model, "translate_a2b") and hasattr(model, "preset")):
        raise TypeError("expected a unit_tf.UNIT model or a unit_tf.translator.Translator, "
                        f"got {type(model_or_translator).__name__}.")
    return model, model.domain_names[0], model.domain_names[1]


def source_channels(preset, direction):
    return preset.channels_a if direction == "a2b" else preset.channels_b


def inference_variables(model):
    """The tf.Variables the translations read: encoders and generators.

    The underlying `tf.Variable` objects (not the Keras wrappers) are what a
    traced function captures; tracking these lets the SavedModel saver and
    the TFLite converter match captures to saved values (with the wrappers
    the converter keeps uninitialised variable handles).
    """
    return [v.value for v in model.encoder.weights + model.generator.weights]


def _padding_indices(size, padded, use_reflect):
    # Index map for one axis: identity, then either a mirror image without
    # repeating the edge (numpy/TF "reflect") or the edge value repeated.
    idx = tf.range(padded)
    reflected = tf.where(idx < size, idx, 2 * (size - 1) - idx)
    edge = tf.minimum(idx, size - 1)
    return tf.where(use_reflect, reflected, edge)


def _static_indices(size, padded, use_reflect):
    return [min(i, size - 1) if not use_reflect else (i if i < size else 2 * (size - 1) - i)
            for i in range(padded)]


def pad_to_multiple(images, divisor):
    """Pads [B, H, W, C] at the bottom/right up to multiples of `divisor`.

    Reflect padding when both pads are smaller than the image (as `Translator`
    does), edge padding otherwise; gathers instead of `tf.pad` so the mode can
    be chosen at run time for dynamic sizes.
    """
    h, w = images.shape[1], images.shape[2]
    if h is not None and w is not None:
        # Static sizes (TFLite): constant indices keep the shapes static.
        ph, pw = -h % divisor, -w % divisor
        if not ph and not pw:
            return images
        use_reflect = ph < h and pw < w
        images = tf.gather(images, _static_indices(h, h + ph, use_reflect), axis=1)
        return tf.gather(images, _static_indices(w, w + pw, use_reflect), axis=2)
    shape = tf.shape(images)
    h, w = shape[1], shape[2]
    ph, pw = (-h) % divisor, (-w) % divisor
    use_reflect = tf.logical_and(ph < h, pw < w)
    images = tf.gather(images, _padding_indices(h, h + ph, use_reflect), axis=1)
    images = tf.gather(images, _padding_indices(w, w + pw, use_reflect), axis=2)
    return images


def to_unit_range(images):
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def to_uint8(images):
    return tf.cast(tf.round(tf.clip_by_value((images + 1.0) * 127.5, 0.0, 255.0)), tf.uint8)


def check_batch(images, preset, direction, name):
    """Run-time checks of a uint8 batch; returns `images` gated on them.

    Loaded signatures do not enforce their input shapes, so a wrong channel
    count would otherwise fail deep inside a convolution with an unhelpful
    message. The checks run before the network (control dependency).
    """
    channels = source_channels(preset, direction)
    shape = tf.shape(images)
    checks = [
        tf.debugging.assert_equal(
            shape[3], channels,
            message=f"{name} takes uint8 images [batch, height, width, {channels}]; "
                    f"the channel count differs"),
        tf.debugging.assert_positive(
            shape[1] * shape[2], message=f"{name}: empty image (height or width 0)"),
    ]
    if preset.fixed_size:
        s = preset.image_size
        checks.append(tf.debugging.assert_equal(
            shape[1:3], tf.constant([s, s]),
            message=f"{name}: preset {preset.name!r} takes only {s}x{s} images"))
    with tf.control_dependencies(checks):
        return tf.identity(images)


def translate_uint8(model, images, direction):
    """uint8 [B, H, W, C] -> uint8 translation, padded and cropped back.

    Under a `translate_scale` other than 1 the image is resized by it first
    and the translation resized back to [B, H, W, C] before rounding.
    """
    translate = model.translate_a2b if direction == "a2b" else model.translate_b2a
    p = model.preset
    if p.fixed_size:
        return to_uint8(translate(to_unit_range(images)))
    h, w = images.shape[1], images.shape[2]
    if h is None or w is None:
        shape = tf.shape(images)
        h, w = shape[1], shape[2]
    if p.translate_scale == 1:
        padded = pad_to_multiple(images, p.size_divisor)
        out = to_uint8(translate(to_unit_range(padded)))
        return out[:, :h, :w, :]
    sh, sw = scaled_size(h, w, p.translate_scale)
    small = resize_images(to_unit_range(images), sh, sw)
    out = translate(pad_to_multiple(small, p.size_divisor))[:, :sh, :sw, :]
    return to_uint8(resize_images(tf.cast(out, tf.float32), h, w))
