"""Frames in memory: a recipe's test pipeline taken apart, and frame sources.

Online inference and the accuracy-vs-frames-seen experiment
(docs/online.md) need what ``mim test`` does to a video, but on frames
that are already decoded: the recipe's own sampling step to pick frames
from the first t of a video, and its own spatial steps (resize, crop,
``FormatShape``, ``PackActionInputs``) to turn frames into the model's raw
input. :class:`FramePipeline` keeps both, from the pipeline ``mim test``
runs (the recipe's ``test_dataloader.dataset.pipeline``), and drops only the
decoding steps.
"""
from __future__ import annotations
import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose

#: Steps that open or decode a file: replaced by frames in memory.
DECODE_STEPS = ('DecordInit', 'DecordDecode', 'PyAVInit', 'PyAVDecode',
                'OpenCVInit', 'OpenCVDecode', 'RawFrameDecode')
#: Steps that make several views of a clip: a stream has one.
MULTI_VIEW_STEPS = ('ThreeCrop', 'TenCrop')
FRAME_SUFFIXES = ('.jpg', '.jpeg', '.png')


@dataclass
class FramePipeline:
    """The sampling and spatial steps of a recipe's test pipeline.

    Args:
        sampling: Config of the ``SampleFrames`` step.
        spatial: Configs of the steps after decoding, from the crop to
            ``PackActionInputs``.
    """

    sampling: dict
    spatial: List[dict]
    _compose: Optional[Compose] = field(
        default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_config(cls, cfg: Config) -> 'FramePipeline':
        """Splits the pipeline ``mim test`` runs: the test loader's.

        Not the ``test_pipeline`` variable, which a leaf that overrides only
        ``test_dataloader`` leaves behind.

        Args:
            cfg: The recipe.

        Returns:
            See :meth:`from_pipeline`.
        """
        return cls.from_pipeline(cfg.test_dataloader.dataset.pipeline)

    @classmethod
    def from_pipeline(cls, pipeline: Sequence[dict]) -> 'FramePipeline':
        """Splits a test pipeline.

        Args:
            pipeline: The recipe's ``test_pipeline``.

        Returns:
            The pipeline's sampling and spatial steps.

        Raises:
            ValueError: No ``SampleFrames`` step, a multi-view step, or a
                ``FormatShape`` other than ``NCHW``.
        """
        sampling = [dict(s) for s in pipeline if s['type'] == 'SampleFrames']
        if len(sampling) != 1:
            raise ValueError('the test pipeline needs exactly one '
                             f'SampleFrames step, found {len(sampling)}')
        index = [s['type'] for s in pipeline].index('SampleFrames')
        spatial = [
            copy.deepcopy(dict(s)) for s in pipeline[index + 1:]
            if s['type'] not in DECODE_STEPS
        ]
        for step in spatial:
            if step['type'] in MULTI_VIEW_STEPS:
                raise ValueError(
                    f'the test pipeline has {step["type"]}, which makes '
                    'several views; frame-by-frame inference takes one: use '
                    'CenterCrop')
            if step['type'] == 'FormatShape' and step.get(
                    'input_format') != 'NCHW':
                raise ValueError('frame-by-frame inference needs '
                                 "FormatShape(input_format='NCHW'), got "
                                 f"{step.get('input_format')!r}")
        return cls(sampling[0], spatial)

    @property
    def stride(self) -> int:
        """The sampling step's ``frame_interval``: frames between inputs."""
        return int(self.sampling.get('frame_interval', 1))

    def frame_indices(self, total_frames: int) -> np.ndarray:
        """The frames the sampling step picks from a video of this length.

        Args:
            total_frames: Frames in the video (e.g. the first t of one).

        Returns:
            0-based frame indices, as MMAction2's ``SampleFrames`` gives
            them in test mode.
        """
        from mmaction.datasets.transforms import SampleFrames
        args = {k: v for k, v in self.sampling.items() if k != 'type'}
        args['test_mode'] = True
        sampler = SampleFrames(**args)
        results = sampler(dict(total_frames=total_frames, start_index=0))
        return results['frame_inds'].reshape(-1)

    def inputs(self, frames: Sequence[np.ndarray]) -> torch.Tensor:
        """Runs frames through the spatial steps.

        Args:
            frames: RGB uint8 frames [H, W, 3] of one clip (one is fine).

        Returns:
            The model's raw input for them, [T, 3, H', W'] (before the
            data preprocessor).
        """
        shape = frames[0].shape[:2]
        results = dict(
            imgs=list(frames),
            img_shape=shape,
            original_shape=shape,
            modality='RGB',
            num_clips=1,
            clip_len=len(frames),
            label=-1)
        if self._compose is None:
            # Built once, at the first call (the registry scope is set by
            # then); the spatial steps keep no state between calls.
            self._compose = Compose(copy.deepcopy(self.spatial))
        return self._compose(results)['inputs']


def _training_dataset(cfg: Config) -> dict:
    """The innermost dataset of the train loader (through wrappers)."""
    dataset = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    while 'pipeline' not in dataset and isinstance(
            dataset.get('dataset'), dict):
        dataset = dataset['dataset']
    return dataset


def spread_sampling_problem(cfg: Config) -> Optional[str]:
    """Why a recipe's training clips are not consecutive frames, if so.

    A model trained on TSN segments (``clip_len=1``, ``num_clips`` > 1:
    one frame from each of ``num_clips`` parts of the video) learnt frames
    a video's length apart; a stream feeds it consecutive frames.

    Args:
        cfg: The recipe.

    Returns:
        The reason, naming the config keys, or None.
    """
    pipeline = _training_dataset(cfg).get('pipeline') or []
    sampling = [s for s in pipeline if s.get('type') == 'SampleFrames']
    if not sampling:
        return None
    clip_len = int(sampling[0].get('clip_len', 1))
    num_clips = int(sampling[0].get('num_clips', 1))
    if clip_len > 1 or num_clips == 1:
        return None
    return (f'the recipe\'s train_dataloader samples num_clips={num_clips} '
            f'segments of clip_len={clip_len} spread over each video (TSN '
            'sampling), so the model learnt frames that far apart, while a '
            'stream feeds it consecutive frames; train on consecutive clips '
            f'(SampleFrames clip_len={num_clips}, num_clips=1, as the '
            'recipes of configs/online/ do), or give --stride to choose the '
            'spacing yourself')


def read_video(path: Union[str, Path]) -> np.ndarray:
    """Every frame of a video file, decoded by decord.

    Args:
        path: The file.

    Returns:
        RGB uint8 frames [T, H, W, 3].
    """
    import decord
    reader = decord.VideoReader(str(path))
    return reader.get_batch(list(range(len(reader)))).asnumpy()


def frame_files(folder: Path) -> List[Path]:
    """The frames of a folder: its ``*.jpg``/``*.png`` files, by name.

    Args:
        folder: The folder.

    Returns:
        The frame files, sorted by name.

    Raises:
        ValueError: The folder holds no frames.
    """
    files = sorted(p for p in folder.iterdir()
                   if p.suffix.lower() in FRAME_SUFFIXES)
    if not files:
        raise ValueError(f'{folder} holds no {"/".join(FRAME_SUFFIXES)} '
                         'frames')
    return files


def iter_frames(source: str) -> Iterator[np.ndarray]:
    """The frames of a video file, a folder of frames, or a camera.

    Args:
        source: A video file (decord), a folder of ``*.jpg``/``*.png``
            frames (sorted by name), or a camera index such as ``'0'``
            (OpenCV).

    Yields:
        RGB uint8 frames [H, W, 3], in order.

    Raises:
        FileNotFoundError: ``source`` is neither a file, a folder nor a
            number.
        ValueError: A folder holds no frames, or a camera cannot be opened.
    """
    import cv2
    path = Path(source)
    if source.isdigit() and not path.exists():
        camera = cv2.VideoCapture(int(source))
        if not camera.isOpened():
            raise ValueError(f'cannot open camera {source}')
        try:
            while True:
                ok, frame = camera.read()
                if not ok:
                    return
                yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        finally:
            camera.release()
    if path.is_dir():
        for file in frame_files(path):
            yield cv2.cvtColor(cv2.imread(str(file)), cv2.COLOR_BGR2RGB)
        return
    if not path.is_file():
        raise FileNotFoundError(f'{source} is neither a video file, a folder '
                                'of frames nor a camera index')
    import decord
    reader = decord.VideoReader(str(path))
    for index in range(len(reader)):
        yield reader[index].asnumpy()
