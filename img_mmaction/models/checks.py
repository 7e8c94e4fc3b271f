"""Argument and tensor checks shared by the IMG modules and backbones.

Every rule that more than one module enforces lives here once, with the
error message a user sees: frames regroup into clips, per-stage switches,
option dicts with known keys, and keyword arguments with a did-you-mean.
"""
from __future__ import annotations
import difflib
from typing import Any, Iterable, Mapping, Optional, Sequence, Tuple


def check_frames(num_frames: int, num_segments: int, where: str) -> int:
    """Returns the number of clips in a batch of ``num_frames`` frames.

    Recognizer2D flattens (clips x views x T) frames into the batch axis;
    every run of ``num_segments`` consecutive frames is one clip.

    Args:
        num_frames: Size of the batch axis, N*T.
        num_segments: Frames per clip, T.
        where: Name of the calling module, for the error message.

    Returns:
        The number of clips N.

    Raises:
        ValueError: ``num_frames`` is not a multiple of ``num_segments``.
    """
    if num_frames % num_segments != 0:
        raise ValueError(
            f'{where}: batch of {num_frames} frames is not a multiple of '
            f'num_segments={num_segments}; the backbone, the head and the '
            'sampler (num_clips) must agree on the number of segments.')
    return num_frames // num_segments


def check_stream_cache(cache_shape: Sequence[int], frame_shape: Sequence[int],
                       where: str) -> None:
    """Checks that a stream's cache fits the frame it is used with.

    Args:
        cache_shape: Shape of what the previous frame left.
        frame_shape: Shape the new frame gives.
        where: Name of the calling method, for the error message.

    Raises:
        ValueError: The shapes differ (the number of streams or the frame
            size changed without a reset).
    """
    if tuple(cache_shape) != tuple(frame_shape):
        raise ValueError(
            f'{where}: cache of shape {tuple(cache_shape)} for a frame that '
            f'gives {tuple(frame_shape)}; reset the stream when the number '
            'of streams or the frame size changes')


def per_stage(value: Any, num_stages: int, name: str) -> Tuple:
    """Expands one value to all stages, or checks one value per stage.

    A list or tuple is read as one entry per stage; anything else (a bool,
    a config dict, None) applies to every stage.

    Args:
        value: One value for every stage, or a list/tuple of them.
        num_stages: Number of stages.
        name: Argument name, for the error message.

    Returns:
        A tuple of ``num_stages`` values.

    Raises:
        ValueError: The list does not have ``num_stages`` entries.
    """
    if not isinstance(value, (list, tuple)):
        return (value, ) * num_stages
    if len(value) != num_stages:
        raise ValueError(f'{name} has {len(value)} entries for {num_stages} '
                         'stages')
    return tuple(value)


def _suggestion(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or ''."""
    close = difflib.get_close_matches(name, list(candidates), n=1)
    return f' (did you mean {close[0]!r}?)' if close else ''


def check_keys(cfg: Optional[Mapping], allowed: Sequence[str],
               name: str) -> dict:
    """Returns a copy of an options dict, refusing keys it cannot take.

    Args:
        cfg: The options, or None for none.
        allowed: The keys the receiver takes.
        name: Name of the option dict, for the error message.

    Returns:
        The options as a new dict.

    Raises:
        ValueError: A key is not in ``allowed``; the message names it and
            the closest allowed key.
    """
    cfg = dict(cfg or {})
    unknown = sorted(set(cfg) - set(allowed))
    if unknown:
        hints = ''.join(_suggestion(key, allowed) for key in unknown)
        raise ValueError(f'{name}: unknown key(s) {unknown}{hints}; '
                         f'allowed: {list(allowed)}')
    return cfg


def check_kwargs(kwargs: Mapping[str, Any],
                 allowed: Iterable[str],
                 owner: str,
                 renamed: Optional[Mapping[str, str]] = None) -> None:
    """Refuses keyword arguments that ``owner`` does not take.

    For classes that pass ``**kwargs`` on to a parent, whose own error would
    name the parent instead of the class the user configured.

    Args:
        kwargs: The keyword arguments received.
        allowed: Every name the class and its parent take.
        owner: The class name, for the error message.
        renamed: Old argument names mapped to what replaces them.

    Raises:
        TypeError: An argument is unknown; the message names the closest
            known argument, or what replaced a renamed one.
    """
    allowed = list(allowed)
    renamed = dict(renamed or {})
    problems = []
    for key in sorted(set(kwargs) - set(allowed)):
        if key in renamed:
            problems.append(f'{key!r} was replaced by {renamed[key]}')
        else:
            problems.append(f'{key!r}{_suggestion(key, allowed)}')
    if problems:
        raise TypeError(f'{owner} got unknown argument(s): ' +
                        '; '.join(problems))
