"""Registered data components: samplers (see the modules of this package)."""
from .samplers import MultiOffsetSampleFrames

__all__ = ['MultiOffsetSampleFrames']
