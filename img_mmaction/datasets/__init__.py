"""Registered data components: samplers, robust datasets, annotation check."""
from .annotation_check import AnnotationError, check_annotation_file
from .robust import (BrokenSampleError, RobustRawframeDataset,
                     RobustVideoDataset)
from .samplers import MultiOffsetSampleFrames

__all__ = [
    'AnnotationError', 'BrokenSampleError', 'MultiOffsetSampleFrames',
    'RobustRawframeDataset', 'RobustVideoDataset', 'check_annotation_file'
]
