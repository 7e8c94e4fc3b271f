"""Helpers for tests and smoke runs, as ``mmaction.testing`` has.

* tiny real datasets (re-exported from :mod:`img_mmaction.synthetic`);
* :mod:`.reference_recognizers`: full-size SthV1 recognizers of IMG, TSM
  and TSN, built without downloads;
* :data:`TINY_TSM_CONFIG` / :data:`TINY_TSM_DETERMINISTIC_CONFIG`: a tiny
  TSM recipe that inherits MMAction2's own TSM-R50 recipe, for end-to-end
  runs of the stock tooling on generated videos (data under ``./data``).
"""
from pathlib import Path

from ..synthetic import make_rawframe_dataset, make_video_dataset

CONFIGS = Path(__file__).parent / 'configs'
TINY_TSM_CONFIG = CONFIGS / 'tsm_tiny_video.py'
TINY_TSM_DETERMINISTIC_CONFIG = CONFIGS / 'tsm_tiny_video_deterministic.py'

__all__ = [
    'CONFIGS', 'TINY_TSM_CONFIG', 'TINY_TSM_DETERMINISTIC_CONFIG',
    'make_rawframe_dataset', 'make_video_dataset'
]
