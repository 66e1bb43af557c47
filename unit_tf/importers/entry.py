"""Zoo entry folders for imported generators: the source checkpoint, its licence, a card.

An imported entry is a regular zoo entry (`zoo/README.md`) whose manifest
also has a `source` record: the authors' project, the checkpoint's file name
and sha256, its format and `gen:` block, and the weights' licence. unit_tf
neither trained nor measured these weights, so the entry has no metrics and
no wall time; `training.command` is the import command that rebuilds it.
"""

import json
import os
import re
import shutil
import uuid

from unit_tf.importers.torch_checkpoint import checkpoint_format

PROJECT = "mingyuliutw/UNIT, branch version_02 (NIPS 2017 code), generator COCOResGen2"
WEIGHTS_LICENSE = "CC BY-NC-SA 4.0"
LICENSE_URL = "https://creativecommons.org/licenses/by-nc-sa/4.0/"
DEFAULT_DATA = ("the authors' training data for this model (see their USAGE.md); "
                "not recorded in the checkpoint")
DEFAULT_DATA_LICENSE = "unknown: see the terms of the authors' training data"


def checkpoint_steps(path):
    """Training iterations from an authors' checkpoint name (`*_gen_00500000.pkl`), or None."""
    match = re.search(r"_gen_(\d+)\.[A-Za-z]+$", os.path.basename(os.fspath(path)))
    return int(match.group(1)) if match else None


def import_card(manifest):
    """The model card (README.md) of an imported entry."""
    m, s = manifest, manifest["source"]
    a, b = m["domain_names"]
    steps = m["training"]["steps"]
    return f"""# {m['name']}

{m['description']}

**Licence of these weights: {s['license']}** ({LICENSE_URL}). They are the
authors' released model, converted: use them for non-commercial purposes
only, credit Liu, Breuel and Kautz (NIPS 2017) and the project below, and
share anything derived from them under the same licence. unit_tf's own
licence does not cover them.

- Translates **{a} -> {b}** (`translate_a2b`) and **{b} -> {a}** (`translate_b2a`).
- Source: {s['project']}; checkpoint `{s['checkpoint']}` ({s.get('format', '?')} format),
  sha256 `{s['sha256']}`{f", {steps} training iterations (from its name)" if steps else ""}.
- Its `gen:` block: `{json.dumps(s.get('config', {}), sort_keys=True)}`.
- Architecture: preset `{m['preset']}`, overrides `{json.dumps(m['overrides'])}`;
  encoders and generators only (the checkpoint holds no discriminators).
- Weights here: `{m['weights']}` ({m['weights_dtype']}), sha256 `{m['sha256']}`.
- Training data: {m['training']['data']} (licence: {m['training']['data_license']}).

## How it was made

Not trained by unit_tf, and no metric was measured by unit_tf. The import
reads the checkpoint without PyTorch (a restricted unpickler) and converts
it. unit_tf's conversion of `COCOResGen2` matches the authors' own
`forward_a2b` / `forward_b2a` to within 4e-6 on a parity fixture made with
their code and random weights (see unit_tf's README, "Using the authors'
released models"); this checkpoint's own translations were not compared with
the authors'. Rebuild this entry with:

```
{m['training']['command']}
```

## Samples

![samples]({m['files']['sample_grid']})

Rows: {a} inputs, their {b} translations, {b} inputs, their {a} translations.

## Use

```python
import unit_tf
t = unit_tf.zoo.load("{m['name']}", root="<the folder holding this entry>")
out = t.translate_a2b(images_uint8)   # [batch, H, W, C] uint8
```
"""


def write_import_entry(model, entry_dir, *, gen, checkpoint, command, images_a, images_b,
                       description, data=DEFAULT_DATA, data_license=DEFAULT_DATA_LICENSE,
                       weights_dtype="float16", overwrite=False):
    """Writes a zoo entry folder for an imported generator, all or nothing.

    The entry is written into a hidden staging folder beside `entry_dir` and
    renamed into place once complete, so a failure leaves nothing behind.

    Args:
        model: the imported `unit_tf.UNIT` (from `import_generator`).
        entry_dir: `<zoo root>/<name>`.
        gen: the validated `gen:` block the model was built from.
        checkpoint: the source checkpoint file (its sha256 goes in the manifest).
        command: the exact import command, for `training.command`.
        images_a, images_b: uint8 images of each domain for the sample grid
            and the stored reference translations.
        description: one paragraph for the manifest and card.
        data, data_license: what the authors trained on, as far as known.
        weights_dtype: "float16" (the zoo's default) or "float32".
        overwrite: replace an existing entry folder.

    Returns:
        The manifest dict.
    """
    from unit_tf.zoo import sha256_file, write_entry

    entry_dir = os.path.abspath(os.fspath(entry_dir))
    if os.path.exists(entry_dir) and not overwrite:
        raise FileExistsError(f"{entry_dir} exists; pass overwrite=True (--overwrite) to "
                              "replace it.")
    source = {"project": PROJECT, "checkpoint": os.path.basename(os.fspath(checkpoint)),
              "sha256": sha256_file(checkpoint), "format": checkpoint_format(checkpoint),
              "config": dict(gen), "license": WEIGHTS_LICENSE}
    training = {"data": data, "data_license": data_license, "command": command,
                "steps": checkpoint_steps(checkpoint), "wall_time_hours": None}
    parent = os.path.dirname(entry_dir)
    staging = os.path.join(parent, f".tmp-{uuid.uuid4().hex}")
    staged = os.path.join(staging, os.path.basename(entry_dir))
    try:
        manifest = write_entry(model, staged, description=description, training=training,
                               images_a=images_a, images_b=images_b, metrics={},
                               weights_dtype=weights_dtype, source=source, readme="")
        with open(os.path.join(staged, manifest["files"]["readme"]), "w",
                  encoding="utf-8") as f:
            f.write(import_card(manifest))
        replaced = os.path.join(staging, "replaced")
        if os.path.exists(entry_dir):
            os.replace(entry_dir, replaced)
        try:
            os.replace(staged, entry_dir)
        except OSError:
            if os.path.exists(replaced):
                os.replace(replaced, entry_dir)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest
