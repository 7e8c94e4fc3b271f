"""Registered engine components (hooks)."""
from .broken_samples import BrokenSampleHook
from .consistency import NumSegmentsCheckHook, check_num_segments
from .finetune import FinetuneCheckpointHook

__all__ = ['BrokenSampleHook', 'FinetuneCheckpointHook',
           'NumSegmentsCheckHook', 'check_num_segments']
