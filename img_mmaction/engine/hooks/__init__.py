"""Registered hooks."""
from .broken_samples import BrokenSampleHook
from .checkpoint import (FinetuneCheckpointHook, StrictCheckpointHook,
                         format_mismatches, state_dict_mismatches)
from .epoch_seed import EpochSeedHook
from .num_segments import NumSegmentsCheckHook, check_num_segments

__all__ = [
    'BrokenSampleHook', 'EpochSeedHook', 'FinetuneCheckpointHook',
    'NumSegmentsCheckHook', 'StrictCheckpointHook', 'check_num_segments',
    'format_mismatches', 'state_dict_mismatches'
]
