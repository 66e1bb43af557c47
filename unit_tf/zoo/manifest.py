"""The zoo entry manifest (`manifest.json`): schema and validation.

See `zoo/README.md` for the schema written out with an example. Every field is
plain JSON so an entry can be reviewed in a pull request.
"""

import json
import os
import re

from unit_tf.fileio import atomic_write_json

SCHEMA_VERSION = 1
STATUSES = ("published", "unpublished")
MODEL_KWARGS = ("share_weights", "cycle_consistency", "discriminators", "seed")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")

# field -> (type(s), required even when unpublished)
_TOP = {
    "schema_version": (int, True),
    "name": (str, True),
    "status": (str, True),
    "description": (str, True),
    "preset": (str, True),
    "overrides": (dict, True),
    "model_kwargs": (dict, False),
    "domain_names": (list, True),
    "image_size": (int, True),
    "weights": ((str, type(None)), True),
    "weights_dtype": ((str, type(None)), True),
    "sha256": ((str, type(None)), True),
    "training": (dict, True),
    "metrics": (dict, True),
    "files": (dict, True),
    "source": (dict, False),
}
# Entries converted from another project's released checkpoint
# (unit_tf.importers): where the weights come from and under which licence.
_SOURCE = {
    "project": (str, True),
    "checkpoint": (str, True),
    "sha256": (str, True),
    "license": (str, True),
    "format": (str, False),
    "config": (dict, False),
}
_TRAINING = {
    "data": (str, True),
    "data_license": (str, True),
    "command": (str, True),
    "steps": ((int, type(None)), True),
    "wall_time_hours": ((int, float, type(None)), True),
    "hardware": (str, False),
}
_FILES = ("readme", "sample_grid", "reference")


class ManifestError(ValueError):
    """A manifest.json that does not follow the schema."""


def _is(value, types):
    # bool is an int subclass; a JSON true is not a step count.
    types = types if isinstance(types, tuple) else (types,)
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


def _plain_file_name(value):
    return (isinstance(value, str) and value and "/" not in value and "\\" not in value
            and value not in (".", ".."))


def validate_manifest(manifest, entry_name=None):
    """Checks a manifest dict against the schema; returns it.

    Published entries need every field filled in (weights, sha256, steps, wall
    time, at least one metric with its command); unpublished entries may leave
    the weights, sha256, steps, wall time and metrics empty but must say how
    they will be trained. Imported entries (with a `source`: another
    project's checkpoint, its sha256 and licence) were not trained or measured
    by unit_tf: their steps, wall time and metrics may be empty, and
    `training.command` is the import command that rebuilds them.

    Args:
        manifest: the parsed manifest.json.
        entry_name: the entry folder's name, which must equal `name`.

    Returns:
        The manifest.

    Raises:
        ManifestError: naming every problem found.
    """
    problems = []
    if not isinstance(manifest, dict):
        raise ManifestError(f"a manifest is a JSON object, got {type(manifest).__name__}.")
    published = manifest.get("status") == "published"

    def check(table, obj, where):
        for field, (types, required) in table.items():
            if field not in obj:
                if required:
                    problems.append(f"missing {where}{field!r}")
                continue
            if not _is(obj[field], types):
                problems.append(f"{where}{field!r} has type {type(obj[field]).__name__}")
        for field in obj:
            if field not in table:
                problems.append(f"unknown field {where}{field!r}")

    check(_TOP, manifest, "")
    m = manifest
    if m.get("schema_version") not in (None, SCHEMA_VERSION):
        problems.append(f"schema_version {m.get('schema_version')!r} (this unit_tf reads "
                        f"{SCHEMA_VERSION})")
    if "status" in m and m["status"] not in STATUSES:
        problems.append(f"status must be one of {STATUSES}, got {m['status']!r}")
    if isinstance(m.get("name"), str):
        if not _NAME.match(m["name"]):
            problems.append(f"name {m['name']!r} must be lower case letters, digits, '_', "
                            "'.', '-'")
        if entry_name is not None and m["name"] != entry_name:
            problems.append(f"name {m['name']!r} differs from the folder name {entry_name!r}")
    if isinstance(m.get("domain_names"), list) and (
            len(m["domain_names"]) != 2
            or not all(isinstance(d, str) and d for d in m["domain_names"])):
        problems.append("domain_names must be two non-empty strings")
    if isinstance(m.get("image_size"), int) and m["image_size"] < 1:
        problems.append("image_size must be positive")
    if isinstance(m.get("model_kwargs"), dict):
        unknown = sorted(set(m["model_kwargs"]) - set(MODEL_KWARGS))
        if unknown:
            problems.append(f"model_kwargs {unknown} unknown; allowed: {MODEL_KWARGS}")
    if isinstance(m.get("training"), dict):
        check(_TRAINING, m["training"], "training.")
        if not m["training"].get("command"):
            problems.append("training.command must give the exact training command")
    if isinstance(m.get("metrics"), dict):
        for metric, record in m["metrics"].items():
            if (not isinstance(record, dict) or set(record) != {"value", "command"}
                    or not isinstance(record["value"], (int, float))
                    or not isinstance(record["command"], str) or not record["command"]):
                problems.append(f"metrics.{metric} must be {{\"value\": number, "
                                "\"command\": the exact evaluation command}")
    if isinstance(m.get("source"), dict):
        check(_SOURCE, m["source"], "source.")
        digest = m["source"].get("sha256")
        if isinstance(digest, str) and not _SHA256.match(digest):
            problems.append("source.sha256 must be 64 lower-case hex digits")
        if not m["source"].get("license"):
            problems.append("source.license must state the weights' licence")
    if isinstance(m.get("files"), dict):
        for key in _FILES:
            if key not in m["files"]:
                problems.append(f"missing files.{key!r}")
            elif not _plain_file_name(m["files"][key]):
                problems.append(f"files.{key} must be a file name inside the entry folder")
        for key in m["files"]:
            if key not in _FILES:
                problems.append(f"unknown field files.{key!r}")
    if m.get("weights") is not None and not _plain_file_name(m["weights"]):
        problems.append("weights must be a file name inside the entry folder")
    if m.get("sha256") is not None and not (isinstance(m["sha256"], str)
                                            and _SHA256.match(m["sha256"])):
        problems.append("sha256 must be 64 lower-case hex digits")
    if m.get("weights_dtype") not in (None, "float16", "float32"):
        problems.append("weights_dtype must be 'float16' or 'float32'")
    if published:
        for field in ("weights", "sha256", "weights_dtype"):
            if m.get(field) is None:
                problems.append(f"a published entry needs {field!r}")
    if published and "source" not in m:
        training = m.get("training") if isinstance(m.get("training"), dict) else {}
        for field in ("steps", "wall_time_hours"):
            if training.get(field) is None:
                problems.append(f"a published entry needs training.{field}")
        if isinstance(m.get("metrics"), dict) and not m["metrics"]:
            problems.append("a published entry needs at least one metric")
    if problems:
        label = entry_name or m.get("name") or "manifest"
        raise ManifestError(f"{label}: manifest.json does not follow the schema: "
                            + "; ".join(problems) + ".")
    return manifest


def read_manifest(entry_dir):
    """Parses and validates `<entry_dir>/manifest.json`."""
    path = os.path.join(entry_dir, "manifest.json")
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise ManifestError(f"{entry_dir} has no manifest.json.") from None
    except json.JSONDecodeError as e:
        raise ManifestError(f"{path} is not valid JSON: {e}") from None
    return validate_manifest(manifest, os.path.basename(os.path.normpath(entry_dir)))


def write_manifest(manifest, entry_dir):
    """Validates and writes `<entry_dir>/manifest.json` (sorted keys, indented)."""
    validate_manifest(manifest, os.path.basename(os.path.normpath(entry_dir)))
    return atomic_write_json(os.path.join(entry_dir, "manifest.json"), manifest,
                             sort_keys=True)
