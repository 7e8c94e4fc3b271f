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


def eq13_reference(weight: torch.Tensor, x: torch.Tensor,
                   num_segments: int) -> torch.Tensor:
    """Eq. 13 written out frame by frame: out[t] = sum_k K[:, k] x[t+k-1].

    Args:
        weight: The kernel K, [C, 3]: weights of frames t-1, t, t+1.
        x: Frames [N*T, C, H, W] (any layout, any device).
        num_segments: T, the frames of a clip (zero beyond its ends).

    Returns:
        The shifted frames, shaped as ``x``.
    """
    clips = x.reshape(-1, num_segments, *x.shape[1:])
    out = torch.zeros_like(clips)
    for t in range(num_segments):
        for k, dt in enumerate((-1, 0, 1)):
            if 0 <= t + dt < num_segments:
                out[:, t] += weight[:, k, None, None] * clips[:, t + dt]
    return out.reshape(x.shape)
