"""Registered engine components: hooks, the TSM/TEA optimizer policy, the
robust runner."""
from .hooks import (BrokenSampleHook, EpochSeedHook, FinetuneCheckpointHook,
                    NumSegmentsCheckHook, StrictCheckpointHook,
                    check_num_segments)
from .optimizers import IMGOptimWrapperConstructor, policy_groups
from .runner import RobustRunner, make_datasets_robust

__all__ = [
    'BrokenSampleHook', 'EpochSeedHook', 'FinetuneCheckpointHook',
    'IMGOptimWrapperConstructor', 'NumSegmentsCheckHook', 'RobustRunner',
    'StrictCheckpointHook', 'check_num_segments', 'make_datasets_robust',
    'policy_groups'
]
