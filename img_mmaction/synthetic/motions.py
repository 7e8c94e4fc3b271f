"""Eight motion classes that differ only in temporal order (the demo's).

Four motions, each in two directions, make eight classes::

    0 move right      1 move left          (translation)
    2 approach        3 recede             (growing / shrinking disc)
    4 appear          5 disappear          (fade in / fade out)
    6 rotate clockwise 7 rotate counter-clockwise (a bar)

Class ``2k + 1`` is rendered as class ``2k`` played backwards, with the same
random scene, so the set of frames of a clip says nothing about which of the
two it is: only the order does. Distractors make single frames even less
useful: a textured background drifting in a random direction, random object
colours, positions, sizes and speeds.

Datasets of these clips are written by :mod:`img_mmaction.synthetic.datasets`.
"""
from __future__ import annotations
from typing import Callable, Dict, List, Sequence

import cv2
import numpy as np

CLASS_NAMES: List[str] = [
    'move right', 'move left', 'approach', 'recede', 'appear', 'disappear',
    'rotate clockwise', 'rotate counter-clockwise'
]
#: Each class's time-reversed partner.
PAIRED_CLASS: Dict[int, int] = {c: c ^ 1 for c in range(len(CLASS_NAMES))}


def _background(rng: np.random.Generator, size: int,
                num_frames: int) -> np.ndarray:
    """A low-frequency texture drifting in a random direction."""
    big = size * 2
    noise = rng.random((big // 8, big // 8, 3)).astype(np.float32)
    texture = cv2.resize(noise, (big, big), interpolation=cv2.INTER_CUBIC)
    texture = (np.clip(texture, 0, 1) * 110 + 20).astype(np.uint8)
    velocity = rng.uniform(-1.0, 1.0, 2)
    start = rng.integers(0, size // 2, 2)
    frames = np.empty((num_frames, size, size, 3), np.uint8)
    for t in range(num_frames):
        y, x = (start + velocity * t).astype(int) % (big - size)
        frames[t] = texture[y:y + size, x:x + size]
    return frames


def _colour(rng: np.random.Generator) -> tuple:
    colour = rng.integers(150, 256, 3)
    colour[rng.integers(0, 3)] = rng.integers(0, 80)
    return tuple(int(c) for c in colour)


def _translate(frames: np.ndarray, rng: np.random.Generator) -> None:
    num_frames, size = frames.shape[:2]
    side = int(rng.integers(size // 6, size // 4))
    travel = rng.uniform(0.35, 0.6) * size
    x0 = rng.uniform(0, size - side - travel)
    y = int(rng.integers(0, size - side))
    colour = _colour(rng)
    for t in range(num_frames):
        x = int(x0 + travel * t / (num_frames - 1))
        frames[t, y:y + side, x:x + side] = colour


def _approach(frames: np.ndarray, rng: np.random.Generator) -> None:
    num_frames, size = frames.shape[:2]
    r0, r1 = size * rng.uniform(0.04, 0.08), size * rng.uniform(0.25, 0.35)
    centre = tuple(int(c) for c in rng.integers(size // 3, 2 * size // 3, 2))
    colour = _colour(rng)
    for t in range(num_frames):
        radius = int(r0 + (r1 - r0) * t / (num_frames - 1))
        cv2.circle(frames[t], centre, radius, colour, -1)


def _appear(frames: np.ndarray, rng: np.random.Generator) -> None:
    num_frames, size = frames.shape[:2]
    side = int(rng.integers(size // 4, size // 3))
    y, x = rng.integers(0, size - side, 2)
    colour = np.array(_colour(rng), np.float32)
    for t in range(num_frames):
        alpha = t / (num_frames - 1)
        patch = frames[t, y:y + side, x:x + side].astype(np.float32)
        frames[t, y:y + side, x:x + side] = ((1 - alpha) * patch +
                                             alpha * colour).astype(np.uint8)


def _rotate(frames: np.ndarray, rng: np.random.Generator) -> None:
    num_frames, size = frames.shape[:2]
    length = size * rng.uniform(0.3, 0.45)
    thickness = max(int(size * 0.07), 2)
    centre = rng.uniform(0.4 * size, 0.6 * size, 2)
    angle0 = rng.uniform(0, np.pi)
    sweep = rng.uniform(0.5, 0.9) * np.pi
    colour = _colour(rng)
    for t in range(num_frames):
        angle = angle0 + sweep * t / (num_frames - 1)  # clockwise on screen
        offset = length * np.array([np.cos(angle), np.sin(angle)])
        p0 = tuple(int(v) for v in centre - offset)
        p1 = tuple(int(v) for v in centre + offset)
        cv2.line(frames[t], p0, p1, colour, thickness)


_FORWARD_MOTIONS: Sequence[Callable] = (_translate, _approach, _appear,
                                        _rotate)


def render_clip(label: int,
                seed: int,
                num_frames: int = 16,
                size: int = 64) -> np.ndarray:
    """Renders one clip of class ``label``.

    Args:
        label: Class index in ``range(8)``.
        seed: Seed of the scene (background, colour, position, speed).
        num_frames: Frames T. Defaults to 16.
        size: Frame side in pixels. Defaults to 64.

    Returns:
        uint8 RGB frames of shape [T, size, size, 3]. ``render_clip(2k+1,
        s)`` is ``render_clip(2k, s)`` reversed in time.
    """
    if not 0 <= label < len(CLASS_NAMES):
        raise ValueError(f'label must be in [0, {len(CLASS_NAMES)}), '
                         f'got {label}')
    if num_frames < 2:
        raise ValueError(f'a motion needs num_frames >= 2, got {num_frames}')
    rng = np.random.default_rng(seed)
    frames = _background(rng, size, num_frames)
    _FORWARD_MOTIONS[label // 2](frames, rng)
    return frames[::-1].copy() if label % 2 else frames
