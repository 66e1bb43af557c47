"""Where the tools and the tests find the pix2pix maps data by default.

`$UNIT_TF_MAPS_ROOT` when set, else `../shared/data/maps` beside the
repository (it may not exist). One home for the expression that
tools/evaluate.py, tools/benchmark.py and tests/conftest.py use.
"""

import os

MAPS_ROOT = os.environ.get("UNIT_TF_MAPS_ROOT") or os.path.normpath(os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "maps"))
