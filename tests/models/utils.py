"""Helpers for the model tests."""
import torch


def randomize_(module: torch.nn.Module) -> torch.nn.Module:
    """Gives every parameter and BN statistic non-trivial random values."""
    with torch.no_grad():
        for name, param in module.named_parameters():
            param.copy_(torch.randn_like(param) * 0.5)
        for name, buffer in module.named_buffers():
            if name.endswith('running_var'):
                buffer.copy_(torch.rand_like(buffer) + 0.5)
            elif name.endswith('running_mean'):
                buffer.copy_(torch.randn_like(buffer) * 0.1)
    return module
