"""Datasets that survive broken media in training and refuse it in testing.

Large video datasets always hold a few truncated, empty or missing files.
``RobustVideoDataset`` and ``RobustRawframeDataset`` are MMAction2's
``VideoDataset`` / ``RawframeDataset`` with two changes:

* **before training**, the annotation file is checked line by line
  (:mod:`img_mmaction.datasets.annotation_check`): a wrong column count
  (e.g. a missing path or label), a non-integer or out-of-range label is an
  ``AnnotationError`` naming the file and line, not a crash mid-epoch
  (run the checker's command to also check the media on disk);
* **in training**, a sample whose decoding fails is skipped: the error is
  logged once per path, mmengine's refetch (``max_refetch``) replaces the
  sample with another one, and the skip is counted in a counter shared with
  the DataLoader workers (fork start method, mmengine's default).
  :class:`~img_mmaction.engine.BrokenSampleHook` reports the count at each
  epoch end and stops training when it passes ``max_broken_ratio``;
* **in test/val mode** a broken sample raises ``BrokenSampleError`` naming
  the file: metrics must never silently change.
"""
from __future__ import annotations
import multiprocessing
from typing import Any, Optional

from mmaction.datasets import RawframeDataset, VideoDataset
from mmaction.registry import DATASETS
from mmengine.logging import print_log

from .annotation_check import check_annotation_file


class BrokenSampleError(RuntimeError):
    """A sample could not be loaded where skipping it is not allowed."""


class _SkipsBrokenSamples:
    """Mixin: skip-and-count in training, clear errors in testing."""

    _kind: str = ''

    def _init_robust(self, check_annotations: bool,
                     num_classes: Optional[int]) -> None:
        self.check_annotations = check_annotations
        self.num_classes = num_classes
        # Shared with forked DataLoader workers: skips of the current epoch
        # and of the whole run.
        self._skips = multiprocessing.Value('l', 0)
        self._skips_total = multiprocessing.Value('l', 0)
        self._logged_paths: set = set()

    def _sample_path(self, idx: int) -> str:
        info = self.get_data_info(idx)
        return str(info.get('filename') or info.get('frame_dir'))

    def load_data_list(self) -> list:
        if getattr(self, 'check_annotations', True):
            prefix = self.data_prefix.get(
                'video' if self._kind == 'video' else 'img', '')
            # Format and labels only: missing or broken media are skipped
            # and counted while training (and refused in test mode).
            check_annotation_file(
                self.ann_file,
                prefix,
                kind=self._kind,
                num_classes=getattr(self, 'num_classes', None),
                check_files=False,
                raise_on_error=True)
        return super().load_data_list()

    def prepare_data(self, idx: int) -> Any:
        try:
            return super().prepare_data(idx)
        except Exception as err:  # decoders raise many types
            path = self._sample_path(idx)
            if self.test_mode:
                raise BrokenSampleError(
                    f'cannot load {path} (sample {idx} of {self.ann_file}): '
                    f'{type(err).__name__}: {err}') from err
            with self._skips.get_lock():
                self._skips.value += 1
            with self._skips_total.get_lock():
                self._skips_total.value += 1
            if path not in self._logged_paths:
                self._logged_paths.add(path)
                print_log(
                    f'skipping broken sample {path}: '
                    f'{type(err).__name__}: {err}',
                    logger='current',
                    level=30)
            return None  # mmengine's BaseDataset fetches another sample

    @property
    def num_skipped(self) -> int:
        """Samples skipped since the last :meth:`reset_skipped`."""
        return int(self._skips.value)

    @property
    def num_skipped_total(self) -> int:
        """Samples skipped since the dataset was built."""
        return int(self._skips_total.value)

    def reset_skipped(self) -> None:
        """Starts a new count (at every epoch start)."""
        with self._skips.get_lock():
            self._skips.value = 0


@DATASETS.register_module()
class RobustVideoDataset(_SkipsBrokenSamples, VideoDataset):
    """``VideoDataset`` that checks its list and skips broken videos.

    Args:
        check_annotations: Validate the annotation file when loading.
            Defaults to True.
        num_classes: Labels must be in ``[0, num_classes)`` when given.
        **kwargs: ``VideoDataset`` arguments.
    """

    _kind = 'video'

    def __init__(self,
                 *args: Any,
                 check_annotations: bool = True,
                 num_classes: Optional[int] = None,
                 **kwargs: Any) -> None:
        self._init_robust(check_annotations, num_classes)
        super().__init__(*args, **kwargs)


@DATASETS.register_module()
class RobustRawframeDataset(_SkipsBrokenSamples, RawframeDataset):
    """``RawframeDataset`` that checks its list and skips broken frames.

    Args:
        check_annotations: Validate the annotation file (and frame counts)
            when loading. Defaults to True.
        num_classes: Labels must be in ``[0, num_classes)`` when given.
        **kwargs: ``RawframeDataset`` arguments.
    """

    _kind = 'rawframe'

    def __init__(self,
                 *args: Any,
                 check_annotations: bool = True,
                 num_classes: Optional[int] = None,
                 **kwargs: Any) -> None:
        self._init_robust(check_annotations, num_classes)
        super().__init__(*args, **kwargs)
