"""Zoo entries: one folder each (manifest.json, weights, model card, sample grid)."""
