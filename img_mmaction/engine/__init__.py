"""Registered engine components (hooks)."""
from .broken_samples import BrokenSampleHook
from .consistency import NumSegmentsCheckHook, check_num_segments
from .epoch_seed import EpochSeedHook
from .finetune import FinetuneCheckpointHook

__all__ = ['BrokenSampleHook', 'EpochSeedHook', 'FinetuneCheckpointHook',
           'NumSegmentsCheckHook', 'check_num_segments']
