"""Writing a zoo entry folder from a trained model."""

import json
import os

from unit_tf.networks import PRESETS
from unit_tf.zoo.manifest import SCHEMA_VERSION, write_manifest
from unit_tf.zoo.reference import as_batch, write_reference, write_sample_grid
from unit_tf.zoo.registry import load_entry
from unit_tf.zoo.weights import write_weights


def preset_overrides(preset):
    """(registered preset name, fields that differ from it) for a model's preset.

    Examples:
        >>> preset_overrides(unit_tf.get_preset("digits", shared_encoder=2))
        ('digits', {'shared_encoder': 2})
    """
    if preset.name not in PRESETS:
        raise ValueError(f"preset {preset.name!r} is not registered; a zoo entry must be "
                         f"rebuildable from one of {sorted(PRESETS)} plus overrides.")
    base = PRESETS[preset.name].to_dict()
    # A JSON round trip turns the spec tuples into lists, as they are compared.
    mine = json.loads(json.dumps(preset.to_dict()))
    base = json.loads(json.dumps(base))
    return preset.name, {k: v for k, v in mine.items() if v != base[k]}


def model_card(manifest):
    """A README.md model card filled in from a manifest (edit it before publishing)."""
    m, t = manifest, manifest["training"]
    a, b = m["domain_names"]
    metrics = "\n".join(
        f"| {name} | {rec['value']} | `{rec['command']}` |"
        for name, rec in sorted(m["metrics"].items())) or "| (none yet) | | |"
    return f"""# {m['name']}

{m['description']}

- Translates **{a} -> {b}** (`translate_a2b`) and **{b} -> {a}** (`translate_b2a`).
- Architecture: preset `{m['preset']}`, overrides `{json.dumps(m['overrides'])}`,
  trained at {m['image_size']}x{m['image_size']}.
- Weights: `{m['weights']}` ({m['weights_dtype']}), sha256 `{m['sha256']}`.
- Status: {m['status']}.

## Training

- Data: {t['data']} (licence: {t['data_license']})
- Steps: {t['steps']}; wall time: {t['wall_time_hours']} h
- Command:

```
{t['command']}
```

## Metrics

| metric | value | command |
|---|---|---|
{metrics}

## Samples

![samples]({m['files']['sample_grid']})

Rows: {a} inputs, their {b} translations, {b} inputs, their {a} translations.

## Use

```python
import unit_tf
t = unit_tf.zoo.load("{m['name']}")
out = t.translate_a2b(images_uint8)   # [batch, H, W, C] uint8
```

## Limitations

Unsupervised translation keeps the layout of the input and invents texture;
outputs are not measurements. Trained on the data above only.
"""


def write_entry(model, entry_dir, *, description, training, images_a, images_b,
                metrics=None, status="published", weights_dtype="float16",
                include_discriminators=None, weights_name="weights.npz",
                sample_grid="samples.png", readme=None, source=None):
    """Writes a complete zoo entry folder from a trained model.

    Writes the weights (float16 by default), `manifest.json`, then loads the
    entry back from those files to write `reference.npz` and the sample grid,
    so both show what users will get; `README.md` is `readme` or, if the
    folder has none yet, a model card generated from the manifest.

    Args:
        model: the trained `unit_tf.UNIT` (or a `Translator`).
        entry_dir: `zoo/<name>`; the folder name is the entry name.
        description: one paragraph on what the entry does.
        training: {"data", "data_license", "command", "steps",
            "wall_time_hours"} and optionally "hardware".
        images_a, images_b: real uint8 images of each domain (held-out), used
            for the reference crops and the sample grid (the first 4).
        metrics: {name: {"value": number, "command": the exact evaluation
            command}}.
        status: "published" or "unpublished".
        weights_dtype, include_discriminators: see `write_weights`.
        weights_name, sample_grid: file names inside the folder.
        readme: the model card text; None keeps an existing README.md or
            writes a generated one.
        source: for weights converted from another project's checkpoint
            (`unit_tf.importers`): {"project", "checkpoint", "sha256",
            "license"} and optionally "format", "config".

    Returns:
        The manifest dict.

    Examples:
        >>> write_entry(model, "zoo/map_sat2map", description="Satellite photos <-> maps.",
        ...             training={"data": "pix2pix maps (train split)",
        ...                       "data_license": "see the pix2pix dataset page",
        ...                       "command": "python tools/train.py --preset=...",
        ...                       "steps": 200000, "wall_time_hours": 30.5},
        ...             metrics={"fid_a2b": {"value": 61.2,
        ...                                  "command": "python tools/evaluate.py ..."}},
        ...             images_a=sat_test[:4], images_b=map_test[:4])
    """
    model = getattr(model, "model", model)
    entry_dir = os.fspath(entry_dir)
    name = os.path.basename(os.path.normpath(entry_dir))
    os.makedirs(entry_dir, exist_ok=True)
    digest = write_weights(model, os.path.join(entry_dir, weights_name), dtype=weights_dtype,
                           include_discriminators=include_discriminators)
    preset_name, overrides = preset_overrides(model.preset)
    model_kwargs = {"share_weights": model.share_weights}
    if model.cycle_consistency != model.preset.cycle_consistency:
        model_kwargs["cycle_consistency"] = model.cycle_consistency
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "status": status,
        "description": description,
        "preset": preset_name,
        "overrides": overrides,
        "model_kwargs": model_kwargs,
        "domain_names": list(model.domain_names),
        "image_size": model.preset.image_size,
        "weights": weights_name,
        "weights_dtype": weights_dtype,
        "sha256": digest,
        "training": dict(training),
        "metrics": dict(metrics or {}),
        "files": {"readme": "README.md", "sample_grid": sample_grid,
                  "reference": "reference.npz"},
    }
    if source is not None:
        manifest["source"] = dict(source)
    write_manifest(manifest, entry_dir)
    translator = load_entry(entry_dir, require_published=False)
    write_reference(translator, os.path.join(entry_dir, "reference.npz"), images_a, images_b)
    write_sample_grid(translator, os.path.join(entry_dir, sample_grid),
                      as_batch(images_a)[:4], as_batch(images_b)[:4])
    readme_path = os.path.join(entry_dir, "README.md")
    if readme is not None or not os.path.exists(readme_path):
        with open(readme_path, "w", encoding="utf-8") as f:
            f.write(readme if readme is not None else model_card(manifest))
    return manifest
