"""The one synthetic video generator: real mp4 files and frame folders.

:mod:`.motions` renders the clips (8 classes in time-reversed pairs),
:mod:`.video_io` writes them as mp4 files that decord reads, and
:mod:`.datasets` writes datasets in MMAction2's layouts: the demo's
(``generate``) and tiny ones for tests and smoke runs
(``make_video_dataset``, ``make_rawframe_dataset``).
"""
from .datasets import generate, make_rawframe_dataset, make_video_dataset
from .motions import CLASS_NAMES, PAIRED_CLASS, render_clip
from .video_io import write_video

__all__ = [
    'CLASS_NAMES', 'PAIRED_CLASS', 'generate', 'make_rawframe_dataset',
    'make_video_dataset', 'render_clip', 'write_video'
]
