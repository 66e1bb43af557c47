"""The model zoo: trained UNIT models as folders, loaded as `Translator`s.

Each entry is a folder `zoo/<name>/` (shipped as `unit_tf.zoo_entries`) with
`manifest.json`, the float16 weights (`weights.npz`), a `README.md` model
card, a sample grid PNG and `reference.npz` (see `zoo/README.md`).

Examples:
    >>> import unit_tf
    >>> unit_tf.zoo.list()
    ['map_sat2map']
    >>> t = unit_tf.zoo.load("map_sat2map")     # sha256 checked
    >>> t.directions
    {'a2b': 'satellite -> map', 'b2a': 'map -> satellite'}
    >>> maps = t.translate_a2b(satellite_uint8)

    A private or test zoo: `unit_tf.zoo.load(name, root="/path/to/zoo")` or the
    environment variable `UNIT_TF_ZOO_ROOT`.
"""

from unit_tf.zoo.entry import model_card, preset_overrides, write_entry
from unit_tf.zoo.manifest import (SCHEMA_VERSION, STATUSES, ManifestError, read_manifest,
                                  validate_manifest, write_manifest)
from unit_tf.zoo.reference import (REFERENCE_TOLERANCE, compare_reference, storage_parity,
                                   write_reference, write_sample_grid)
from unit_tf.zoo.registry import (ENV_ROOT, ChecksumError, MissingWeightsError,
                                  UnknownEntryError, UnpublishedEntryError, ZooError,
                                  build_model, entry_dir, get_manifest, list_entries, load,
                                  load_entry, zoo_root)
from unit_tf.zoo.weights import load_weights, read_weights, sha256_file, write_weights

# `unit_tf.zoo.list()` reads naturally; it is left out of __all__ so that
# `from unit_tf.zoo import *` cannot shadow the builtin.
list = list_entries  # noqa: A001

__all__ = [
    "ENV_ROOT", "REFERENCE_TOLERANCE", "SCHEMA_VERSION", "STATUSES", "ChecksumError",
    "ManifestError", "MissingWeightsError", "UnknownEntryError", "UnpublishedEntryError",
    "ZooError", "build_model", "compare_reference", "entry_dir", "get_manifest",
    "list_entries", "load", "load_entry", "load_weights", "model_card", "preset_overrides",
    "read_manifest", "read_weights", "sha256_file", "storage_parity", "validate_manifest",
    "write_entry", "write_manifest", "write_reference", "write_sample_grid", "write_weights",
]
