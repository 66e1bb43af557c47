import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _float32_policy():
    """Every test starts in float32 whatever an earlier one set."""
    keras.mixed_precision.set_global_policy("float32")
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.fixture(scope="session")
def shared_maps():
    """The pix2pix maps folder as the tools find it: `$UNIT_TF_MAPS_ROOT`, else
    `../shared/data/maps` beside the repository (it may not exist)."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "tools", "_paths.py")
    spec = importlib.util.spec_from_file_location("tools_paths", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MAPS_ROOT


@pytest.fixture(scope="session")
def half_scale_model():
    """A narrow NIPS-table UNIT that translates at half the input's size."""
    import unit_tf

    keras.utils.set_random_seed(0)
    model = unit_tf.UNIT("nips_translation", overrides={"width": 4, "translate_scale": 0.5},
                         discriminators=False)
    model.build()
    return model
