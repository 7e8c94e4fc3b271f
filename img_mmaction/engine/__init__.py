"""Registered engine components (hooks)."""
from .finetune import FinetuneCheckpointHook

__all__ = ['FinetuneCheckpointHook']
