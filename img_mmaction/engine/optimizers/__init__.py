"""Optimizer wrapper constructors: the TSM/TEA training policy."""
from .img_optim_wrapper_constructor import (POLICY, IMGOptimWrapperConstructor,
                                            policy_groups)

__all__ = ['IMGOptimWrapperConstructor', 'POLICY', 'policy_groups']
