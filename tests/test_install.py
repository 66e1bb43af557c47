"""The packaged zoo after a regular (non-editable) install.

The repository's packaging files, `unit_tf/` and `zoo/` are copied to a
temporary folder, one fixture entry is added to the copy's `zoo/` (so the
package-data rules are exercised on a real entry), and the copy is installed
with `pip install --target`. A fresh interpreter with that folder first on
sys.path and the repository nowhere on it must find the installed entries
folder, list exactly the copy's `zoo/` entries, and load the fixture.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import keras
import numpy as np

import unit_tf
import unit_tf.zoo as zoo

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = "zz_install_fixture"

CHECK = textwrap.dedent("""
    import json, os, sys
    repo, name = sys.argv[1:]
    assert not any(os.path.abspath(p or ".") == repo for p in sys.path), sys.path
    import unit_tf, unit_tf.zoo as zoo, unit_tf.zoo_entries
    root = zoo.zoo_root()
    translator = zoo.load(name)
    folder = os.path.join(root, name)
    diffs = zoo.compare_reference(translator, os.path.join(folder, "reference.npz"))
    print(json.dumps({"unit_tf": unit_tf.__file__, "entries_pkg": unit_tf.zoo_entries.__file__,
                      "root": root, "list": zoo.list(), "files": sorted(os.listdir(folder)),
                      "diffs": diffs}))
""")


def _repo_entries():
    folder = os.path.join(REPO, "zoo")
    return sorted(d for d in os.listdir(folder)
                  if os.path.isfile(os.path.join(folder, d, "manifest.json")))


def test_regular_install_ships_the_zoo(tmp_path):
    src, site = tmp_path / "src", tmp_path / "site"
    src.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md", "setup.py", "MANIFEST.in"):
        if os.path.exists(os.path.join(REPO, name)):
            shutil.copy(os.path.join(REPO, name), src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".tmp-*")
    for name in ("unit_tf", "zoo"):
        shutil.copytree(os.path.join(REPO, name), src / name, ignore=ignore)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    zoo.write_entry(unit_tf.UNIT("tiny", domain_names=("x", "y")), src / "zoo" / FIXTURE,
                    description="Install test fixture.",
                    training={"data": "none", "data_license": "n/a", "command": "none",
                              "steps": 0, "wall_time_hours": 0.0},
                    metrics={"m": {"value": 0.0, "command": "none"}},
                    images_a=rng.integers(0, 256, (1, 64, 64, 3), dtype=np.uint8),
                    images_b=rng.integers(0, 256, (1, 64, 64, 3), dtype=np.uint8))

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop(zoo.ENV_ROOT, None)
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps",
                           "--no-build-isolation", "--no-index", "--quiet",
                           "--target", str(site), str(src)],
                          capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]

    env["PYTHONPATH"] = str(site)
    proc = subprocess.run([sys.executable, "-c", CHECK, REPO, FIXTURE],
                          capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    installed = os.path.join(str(site), "unit_tf")
    assert report["unit_tf"].startswith(installed + os.sep)
    assert report["root"] == os.path.join(installed, "zoo_entries")
    assert report["entries_pkg"].startswith(report["root"] + os.sep)
    assert report["list"] == sorted(_repo_entries() + [FIXTURE])
    assert report["files"] == ["README.md", "manifest.json", "reference.npz", "samples.png",
                               "weights.npz"]
    assert max(report["diffs"].values()) <= zoo.REFERENCE_TOLERANCE
