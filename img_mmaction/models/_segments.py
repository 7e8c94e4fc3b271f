"""Validation shared by the temporal modules: frames regroup into clips."""
from __future__ import annotations


def check_frames(num_frames: int, num_segments: int, where: str) -> int:
    """Returns the number of clips in a batch of ``num_frames`` frames.

    Recognizer2D flattens (clips x views x T) frames into the batch axis;
    every run of ``num_segments`` consecutive frames is one clip.

    Args:
        num_frames: Size of the batch axis, N*T.
        num_segments: Frames per clip, T.
        where: Name of the calling module, for the error message.

    Returns:
        The number of clips N.

    Raises:
        ValueError: ``num_frames`` is not a multiple of ``num_segments``.
    """
    if num_frames % num_segments != 0:
        raise ValueError(
            f'{where}: batch of {num_frames} frames is not a multiple of '
            f'num_segments={num_segments}; the backbone, the head and the '
            'sampler (num_clips) must agree on the number of segments.')
    return num_frames // num_segments
