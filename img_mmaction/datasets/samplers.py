"""TSN sampling with several segment offsets per video (10-clip testing)."""
from __future__ import annotations
from typing import Dict

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform


@TRANSFORMS.register_module()
class MultiOffsetSampleFrames(BaseTransform):
    """Samples ``num_offsets`` TSN clips of ``num_segments`` frames each.

    The video is cut into ``num_segments`` equal segments. A clip takes one
    frame per segment at the same relative offset inside every segment; the
    clips differ by that offset. In test mode the offsets are evenly spread,
    ``(k + 0.5) / num_offsets`` of a segment for clip k, so testing is
    deterministic; in train mode each clip draws its own random offsets.

    This is the paper's "accurate" protocol (8 frames x 10 clips, Table 1),
    which MMAction2's ``SampleFrames`` cannot express: its ``num_clips``
    *are* the TSN segments, and ``twice_sample`` gives only 2 offsets.

    ``frame_inds`` is clip-major: clip 0's ``num_segments`` frames, then
    clip 1's, and so on. With ``FormatShape('NCHW')`` (and ``ThreeCrop``,
    which stacks crops crop-major), Recognizer2D then sees every run of
    ``num_segments`` consecutive frames as one view, which is how the
    backbone and ``TSMHead`` regroup frames and how scores are averaged.

    Args:
        num_segments: TSN segments per clip (frames per view). Defaults to 8.
        num_offsets: Clips per video. Defaults to 10.
        test_mode: Deterministic offsets. Defaults to True.

    Required keys: ``total_frames``, ``start_index``. Added keys:
    ``frame_inds``, ``clip_len`` (1), ``frame_interval`` (None),
    ``num_clips`` (``num_segments * num_offsets``).
    """

    def __init__(self,
                 num_segments: int = 8,
                 num_offsets: int = 10,
                 test_mode: bool = True) -> None:
        if num_segments < 1 or num_offsets < 1:
            raise ValueError('num_segments and num_offsets must be >= 1, got '
                             f'{num_segments} and {num_offsets}')
        self.num_segments = num_segments
        self.num_offsets = num_offsets
        self.test_mode = test_mode

    def frame_indices(self, total_frames: int) -> np.ndarray:
        """Returns 0-based frame indices of shape [num_offsets, num_segments].

        Raises:
            ValueError: ``total_frames`` is not positive.
        """
        if total_frames < 1:
            raise ValueError(f'video has total_frames={total_frames}')
        segment = total_frames / self.num_segments
        if self.test_mode:
            fractions = (np.arange(self.num_offsets) + 0.5) / self.num_offsets
            fractions = np.repeat(fractions[:, None], self.num_segments, 1)
        else:
            fractions = np.random.rand(self.num_offsets, self.num_segments)
        starts = segment * np.arange(self.num_segments)[None, :]
        indices = np.floor(starts + fractions * segment).astype(np.int64)
        return np.clip(indices, 0, total_frames - 1)

    def transform(self, results: Dict) -> Dict:
        """Adds the clip-major ``frame_inds`` of all offsets."""
        indices = self.frame_indices(int(results['total_frames']))
        # [num_offsets, num_segments] -> [num_offsets * num_segments]
        results['frame_inds'] = indices.reshape(-1) + results['start_index']
        results['clip_len'] = 1
        results['frame_interval'] = None
        results['num_clips'] = self.num_segments * self.num_offsets
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_segments={self.num_segments}, '
                f'num_offsets={self.num_offsets}, '
                f'test_mode={self.test_mode})')
