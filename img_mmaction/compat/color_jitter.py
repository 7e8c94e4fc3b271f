"""Fix 3: MMAction2's ``ColorJitter`` hue shift overflows under numpy 2.

numpy 2 (NEP 50) makes ``ColorJitter.adjust_hue`` raise ``OverflowError:
Python integer -14 out of bounds for uint8`` for a negative hue offset (the
same defect as pytorch/vision#8536), at random during training. The hue
shift is computed in int16, which gives exactly numpy 1.26's result.
"""
from __future__ import annotations

import numpy as np

from ._originals import ORIGINALS

UPSTREAM = 'NEP 50, as pytorch/vision#8536'


def _adjust_hue_int16(img: np.ndarray, factor: float) -> np.ndarray:
    """mmaction ``ColorJitter.adjust_hue`` with the hue shift in int16."""
    import cv2
    img = np.clip(img, 0, 255).astype(np.uint8)
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    offset = int(factor * 255)
    # numpy 1 promoted uint8 + negative int to int16; do so explicitly.
    hsv[..., 0] = (hsv[..., 0].astype(np.int16) + offset) % 180
    img = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return img.astype(np.float32)


def _current():
    from mmaction.datasets.transforms import processing
    return processing.ColorJitter.__dict__['adjust_hue'].__func__


def needed() -> bool:
    """The installed ``adjust_hue`` overflows on a negative hue offset."""
    adjust_hue = ORIGINALS.get('ColorJitter.adjust_hue', _current())
    try:
        adjust_hue(np.full((2, 2, 3), 100, np.float32), -0.06)
    except OverflowError:
        return True
    return False


def install() -> None:
    """Replaces ``ColorJitter.adjust_hue`` with the int16 version."""
    from mmaction.datasets.transforms import processing
    current = _current()
    if current is _adjust_hue_int16:
        return
    ORIGINALS['ColorJitter.adjust_hue'] = current
    processing.ColorJitter.adjust_hue = staticmethod(_adjust_hue_int16)
