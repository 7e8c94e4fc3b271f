"""Label maps: one class name per line, in class order."""
from __future__ import annotations
from pathlib import Path
from typing import List, Optional, Union

from .errors import InferenceInputError


class LabelMapError(InferenceInputError):
    """A label map does not fit the model's classes."""


def load_label_map(path: Optional[Union[str, Path]],
                   num_classes: int) -> List[str]:
    """One label per non-empty line; class indices when no file is given.

    Args:
        path: The text file, or None.
        num_classes: The model's classes.

    Returns:
        ``num_classes`` labels.

    Raises:
        LabelMapError: The file has another number of labels than the model
            has classes.
    """
    if path is None:
        return [str(i) for i in range(num_classes)]
    labels = [
        line.strip() for line in Path(path).read_text().splitlines()
        if line.strip()
    ]
    if len(labels) != num_classes:
        raise LabelMapError(
            f'{path} has {len(labels)} labels for a model of {num_classes} '
            'classes; it needs exactly one line per class, in class order')
    return labels
