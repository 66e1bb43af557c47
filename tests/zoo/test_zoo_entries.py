"""Every zoo entry, packaged or fixture, passes the same checks.

New folders in the repository's `zoo/` are picked up automatically: the
parameters are the packaged entries plus one fixture entry built from the
tiny preset, so the checks themselves are exercised even while the packaged
zoo is empty.
"""

import os

import numpy as np
import pytest
from PIL import Image

import unit_tf.zoo as zoo
import unit_tf.zoo_entries

PACKAGED_ROOT = os.path.dirname(os.path.abspath(unit_tf.zoo_entries.__file__))
PACKAGED = zoo.list_entries(root=PACKAGED_ROOT)
ENTRIES = ([pytest.param(("packaged", n), id=n) for n in PACKAGED]
           + [pytest.param(("fixture", "tiny_x2y"), id="fixture-tiny_x2y"),
              pytest.param(("fixture", "tiny_later"), id="fixture-tiny_later")])


PUBLISHED = ([pytest.param(("packaged", n), id=n)
              for n in zoo.list_entries(root=PACKAGED_ROOT, status="published")]
             + [pytest.param(("fixture", "tiny_x2y"), id="fixture-tiny_x2y")])


def _resolve(param, fixture_zoo):
    kind, name = param
    return (PACKAGED_ROOT if kind == "packaged" else str(fixture_zoo)), name


@pytest.fixture(params=ENTRIES)
def entry(request, fixture_zoo):
    """(zoo root, entry name) of every entry."""
    return _resolve(request.param, fixture_zoo)


@pytest.fixture(params=PUBLISHED)
def published_entry(request, fixture_zoo):
    """(zoo root, entry name) of every published entry."""
    return _resolve(request.param, fixture_zoo)


def test_every_zoo_folder_is_an_entry():
    folders = [d for d in os.listdir(PACKAGED_ROOT)
               if os.path.isdir(os.path.join(PACKAGED_ROOT, d))
               and not d.startswith((".", "_"))]
    assert sorted(folders) == PACKAGED, "every zoo/ folder needs a manifest.json"


def test_manifest_schema(entry):
    root, name = entry
    manifest = zoo.read_manifest(os.path.join(root, name))
    assert manifest["name"] == name
    assert manifest["training"]["command"]
    for record in manifest["metrics"].values():
        assert record["command"]


def test_files_checksum_and_reference(entry):
    root, name = entry
    folder = os.path.join(root, name)
    manifest = zoo.read_manifest(folder)
    if manifest["status"] == "unpublished":
        with pytest.raises(zoo.UnpublishedEntryError,
                           match=manifest["training"]["command"].split()[0]):
            zoo.load(name, root=root)
        return
    for file_name in [manifest["weights"], *manifest["files"].values()]:
        assert os.path.isfile(os.path.join(folder, file_name)), file_name
    weights = os.path.join(folder, manifest["weights"])
    assert zoo.sha256_file(weights) == manifest["sha256"]
    arrays, meta = zoo.read_weights(weights)
    assert meta["dtype"] == manifest["weights_dtype"]
    assert {a.dtype.name for a in arrays.values()} <= {manifest["weights_dtype"]}

    translator = zoo.load(name, root=root)
    a, b = manifest["domain_names"]
    assert translator.directions == {"a2b": f"{a} -> {b}", "b2a": f"{b} -> {a}"}
    diffs = zoo.compare_reference(translator, os.path.join(folder, manifest["files"]["reference"]))
    assert max(diffs.values()) <= zoo.REFERENCE_TOLERANCE, diffs

    # The reference inputs are real images of each domain.
    with np.load(os.path.join(folder, manifest["files"]["reference"])) as ref:
        x = ref["a"]
    out = translator.translate_a2b(x)
    assert out.dtype == np.uint8 and out.shape[:3] == x.shape[:3]
    with Image.open(os.path.join(folder, manifest["files"]["sample_grid"])) as grid:
        assert grid.format == "PNG" and grid.size[0] > 0
    with open(os.path.join(folder, manifest["files"]["readme"]), encoding="utf-8") as f:
        assert name in f.read()


def test_wrong_inputs_are_refused(published_entry):
    root, name = published_entry
    translator = zoo.load(name, root=root)
    p = translator.preset
    size = p.image_size
    with pytest.raises(TypeError, match="uint8"):
        translator.translate_a2b(np.zeros((1, size, size, p.channels_a), np.float32))
    with pytest.raises(ValueError, match="shape"):
        translator.translate_a2b(np.zeros((1, size, size, p.channels_a + 1), np.uint8))
