"""Domain adaptation metric: classification accuracy on the target domain."""

import numpy as np

DEFINITION = "fraction of test images whose argmax over the 10 class logits equals the label"


def classification_accuracy(logits, labels):
    """Fraction of rows where argmax(logits) == label.

    Args:
        logits: float [N, num_classes].
        labels: int [N].

    Returns:
        float in [0, 1].
    """
    logits = np.asarray(logits)
    labels = np.asarray(labels).reshape(-1)
    if logits.ndim != 2 or len(logits) != len(labels):
        raise ValueError(f"logits [N, classes] and labels [N] do not match: "
                         f"{logits.shape} vs {labels.shape}.")
    if not len(labels):
        raise ValueError("classification_accuracy: no examples.")
    return float((logits.argmax(axis=1) == labels).mean())
