"""Finding, checking and loading zoo entries.

The zoo root is, in order: the `root=` argument, the `UNIT_TF_ZOO_ROOT`
environment variable, or the packaged `unit_tf.zoo_entries` folder (the
repository's top-level `zoo/`, shipped inside the package by setup.cfg, so
the same code works after an editable and a regular install). An entry is a
sub-folder holding a `manifest.json`.
"""

import os

from unit_tf.zoo.manifest import read_manifest
from unit_tf.zoo.weights import has_discriminators, load_weights, read_weights, sha256_file

ENV_ROOT = "UNIT_TF_ZOO_ROOT"


class ZooError(Exception):
    """Base class of the zoo's errors."""


class UnknownEntryError(ZooError, KeyError):
    """No entry of that name; the message lists the valid names."""

    def __str__(self):
        # KeyError would print the message with quotes around it.
        return str(self.args[0])


class MissingWeightsError(ZooError, FileNotFoundError):
    """The manifest names a weights file that is not there."""


class ChecksumError(ZooError, ValueError):
    """The weights file's sha256 differs from the manifest's."""


class UnpublishedEntryError(ZooError, RuntimeError):
    """The entry is announced but its weights are not released."""


def zoo_root(root=None):
    """The folder holding the entries (see the module docstring for the order)."""
    if root is not None:
        return os.fspath(root)
    if os.environ.get(ENV_ROOT):
        return os.environ[ENV_ROOT]
    import unit_tf.zoo_entries

    return os.path.dirname(os.path.abspath(unit_tf.zoo_entries.__file__))


def list_entries(root=None, status=None):
    """Sorted names of the zoo's entries.

    Args:
        root: another zoo folder (tests, a private zoo); default the packaged one.
        status: "published" or "unpublished" to filter; None lists all.

    Returns:
        A list of entry names.

    Examples:
        >>> unit_tf.zoo.list()
        ['digits_mnist2usps', 'map_sat2map']
    """
    folder = zoo_root(root)
    if not os.path.isdir(folder):
        return []
    names = sorted(
        name for name in os.listdir(folder)
        if not name.startswith((".", "_"))
        and os.path.isfile(os.path.join(folder, name, "manifest.json")))
    if status is not None:
        names = [n for n in names
                 if read_manifest(os.path.join(folder, n))["status"] == status]
    return names


def entry_dir(name, root=None):
    """The folder of entry `name`; UnknownEntryError listing the valid names."""
    names = list_entries(root)
    if name not in names:
        valid = ", ".join(names) if names else "none (the zoo is empty)"
        raise UnknownEntryError(f"unknown zoo entry {name!r}; valid entries: {valid} "
                                f"(zoo root: {zoo_root(root)}).")
    return os.path.join(zoo_root(root), name)


def get_manifest(name, root=None):
    """The validated manifest dict of entry `name`."""
    return read_manifest(entry_dir(name, root))


def build_model(manifest, discriminators=True):
    """An untrained UNIT with the entry's architecture (preset + overrides)."""
    from unit_tf.models import UNIT

    kwargs = dict(manifest.get("model_kwargs", {}))
    kwargs["discriminators"] = discriminators and kwargs.get("discriminators", True)
    return UNIT(manifest["preset"], overrides=dict(manifest["overrides"]),
                domain_names=tuple(manifest["domain_names"]), **kwargs)


def verified_weights_path(entry, manifest):
    """The entry's weights file after checking that it exists and its sha256."""
    name = manifest["name"]
    path = os.path.join(entry, manifest["weights"])
    if not os.path.isfile(path):
        raise MissingWeightsError(
            f"zoo entry {name!r}: weights file {manifest['weights']!r} is missing from "
            f"{entry}. Reinstall unit_tf, or retrain with: {manifest['training']['command']}")
    digest = sha256_file(path)
    if digest != manifest["sha256"]:
        raise ChecksumError(
            f"zoo entry {name!r}: {path} has sha256 {digest} but the manifest says "
            f"{manifest['sha256']}; the file is damaged or was replaced. Reinstall "
            "unit_tf, or rewrite the file with unit_tf.zoo.write_weights() and put its "
            "sha256 in the manifest.")
    return path


def load_entry(entry, require_published=True):
    """A `Translator` from an entry folder (see `load`).

    Args:
        entry: the entry folder.
        require_published: False loads an unpublished entry that has weights
            (used while preparing an entry, e.g. to write its reference).
    """
    from unit_tf.translator import Translator

    entry = os.fspath(entry)
    manifest = read_manifest(entry)
    name = manifest["name"]
    if require_published and manifest["status"] != "published":
        raise UnpublishedEntryError(
            f"zoo entry {name!r} is unpublished: its weights are not released yet "
            f"(its card, {os.path.join(entry, manifest['files']['readme'])}, says where "
            f"it stands). Train it yourself with: {manifest['training']['command']}")
    if manifest["weights"] is None or manifest["sha256"] is None:
        raise MissingWeightsError(f"zoo entry {name!r} has no weights in its manifest. "
                                  f"Train it with: {manifest['training']['command']}")
    path = verified_weights_path(entry, manifest)
    _, meta = read_weights(path)
    model = build_model(manifest, discriminators=has_discriminators(meta))
    load_weights(model, path)
    translator = Translator(model, name=name)
    translator.manifest = manifest
    return translator


def load(name, root=None):
    """Loads zoo entry `name` as a `Translator`, after checking its weights' sha256.

    Args:
        name: an entry name (see `unit_tf.zoo.list()`).
        root: another zoo folder; default `UNIT_TF_ZOO_ROOT` or the packaged zoo.

    Returns:
        A `unit_tf.translator.Translator` (uint8 in/out, `translate_a2b`,
        `translate_b2a`, `directions`) with the entry's `manifest` attached.

    Raises:
        UnknownEntryError: no such entry (the message lists the valid ones).
        UnpublishedEntryError: the entry has no released weights (the message
            gives its training command).
        MissingWeightsError, ChecksumError: the weights file is missing or
            does not match the manifest's sha256.

    Examples:
        >>> t = unit_tf.zoo.load("map_sat2map")
        >>> t.directions["a2b"]
        'satellite -> map'
        >>> maps = t.translate_a2b(satellite_uint8)
    """
    return load_entry(entry_dir(name, root))
