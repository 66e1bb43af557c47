"""Importers: other projects' released checkpoints as unit_tf models.

`unit_v02` brings in the authors' NIPS-era UNIT generators (mingyuliutw/UNIT,
branch version_02, class COCOResGen2), read by `torch_checkpoint` without
PyTorch and without running the pickle.

Examples:
    >>> from unit_tf.importers import import_generator
    >>> model = import_generator("cat2tiger.yaml", "cat2tiger_gen_00500000.pkl",
    ...                          domain_names=("cat", "tiger"))
    >>> model.save("cat2tiger.keras")   # then tools/export.py for SavedModel / TFLite
"""

from unit_tf.importers.entry import WEIGHTS_LICENSE, import_card, write_import_entry
from unit_tf.importers.torch_checkpoint import (ALLOWED_GLOBALS, CheckpointError,
                                                RefusedGlobalError, checkpoint_format,
                                                read_state_dict)
from unit_tf.importers.unit_v02 import (CheckpointMismatchError, ImportConfigError,
                                        gen_preset, import_generator, load_generator,
                                        parameter_map, read_gen_config, validate_gen)

__all__ = ["ALLOWED_GLOBALS", "CheckpointError", "CheckpointMismatchError",
           "ImportConfigError", "RefusedGlobalError", "WEIGHTS_LICENSE", "checkpoint_format",
           "gen_preset", "import_card", "import_generator", "load_generator",
           "parameter_map", "read_gen_config", "read_state_dict", "validate_gen",
           "write_import_entry"]
