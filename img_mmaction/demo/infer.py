"""Top-k labels for a video file or a folder of frames, strictly.

Command::

    python -m img_mmaction.demo.infer CONFIG CHECKPOINT INPUT \
        [--label-map labels.txt] [--topk 5] [--device cpu]

CONFIG is a recipe file or, as ``mim`` takes it, a packaged recipe's name.
INPUT is a video file (decoded by decord) or a folder of frames (``*.jpg`` or
``*.png``, sorted by name). The pipeline ``mim test`` uses, the recipe's
``test_dataloader.dataset.pipeline``, is used and printed; for a frame
folder its video decoding steps are swapped for ``RawFrameDecode``.
Nothing here guesses:

* the checkpoint must fit the recipe's model tensor for tensor, or the
  command fails, counting the missing, unexpected and reshaped tensors and
  naming the first of each;
* a label map must have exactly one line per class;
* ``--topk`` may not exceed the number of classes;
* a video that cannot be decoded fails with its file name.
"""
from __future__ import annotations
import argparse
import copy
import re
import sys
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import torch

import img_mmaction  # noqa: F401  (compat fixes + registration)
from img_mmaction.utils import (CheckpointMismatchError, InferenceInputError,
                                load_checkpoint_strictly, load_label_map,
                                resolve_config)
from img_mmaction.utils.frames import frame_files


def _frame_folder_sample(folder: Path) -> dict:
    """Describes a frame folder for ``RawFrameDecode``."""
    try:
        frames = frame_files(folder)
    except ValueError as error:
        raise InferenceInputError(str(error)) from error
    match = re.fullmatch(r'(\D*)(\d+)(\.\w+)', frames[0].name)
    if match is None:
        raise InferenceInputError(
            f'cannot read a frame number from {frames[0].name} in {folder}: '
            'expected names like img_00001.jpg')
    prefix, digits, suffix = match.groups()
    template = f'{prefix}{{:0{len(digits)}d}}{suffix}'
    return dict(
        frame_dir=str(folder),
        total_frames=len(frames),
        filename_tmpl=template,
        start_index=int(digits),
        label=-1,
        modality='RGB')


def _rawframe_pipeline(pipeline: List[dict]) -> List[dict]:
    """Replaces video decoding steps with ``RawFrameDecode``."""
    out = []
    for step in pipeline:
        if step['type'] in ('DecordInit', 'PyAVInit', 'OpenCVInit'):
            continue
        if step['type'] in ('DecordDecode', 'PyAVDecode', 'OpenCVDecode'):
            out.append(dict(type='RawFrameDecode'))
            continue
        out.append(step)
    return out


#: Labels returned when ``topk`` is not given (fewer for fewer classes).
DEFAULT_TOPK = 5


def predict(config: str,
            checkpoint: str,
            target: str,
            label_map: Optional[str] = None,
            topk: Optional[int] = None,
            device: str = 'cpu',
            verbose: bool = False) -> List[Tuple[str, float]]:
    """Returns the ``topk`` (label, score) pairs for ``target``.

    Args:
        config: Recipe file, or a packaged recipe's name as ``mim`` takes it
            (:func:`~img_mmaction.utils.resolve_config`).
        checkpoint: Checkpoint file (loaded strictly, ``weights_only``).
        target: Video file or folder of frames.
        label_map: Text file with one class name per line.
        topk: Number of labels to return. Defaults to
            :data:`DEFAULT_TOPK`, or the number of classes when fewer.
        device: Torch device. Defaults to ``'cpu'``.
        verbose: Print the pipeline used. Defaults to False.

    Raises:
        FileNotFoundError: ``target`` does not exist.
        CheckpointMismatchError: The checkpoint does not fit.
        InferenceInputError: Bad label map, ``topk``, or undecodable input.
    """
    from mmaction.apis import inference_recognizer, init_recognizer
    from mmengine.config import Config

    path = Path(target)
    if not path.exists():
        raise FileNotFoundError(f'{target} does not exist')
    if topk is not None and topk < 1:
        raise InferenceInputError(f'--topk must be >= 1, got {topk}')
    recipe = resolve_config(config)
    cfg = Config.fromfile(str(recipe))
    # What `mim test` runs: the test dataloader's pipeline (a recipe's
    # `test_pipeline` variable may have been left behind by an override).
    pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    if path.is_dir():
        pipeline = _rawframe_pipeline(pipeline)
        sample = _frame_folder_sample(path)
    else:
        sample = str(path)
    cfg.test_pipeline = pipeline  # what inference_recognizer reads
    if verbose:
        print(f'recipe: {recipe.resolve()}')
        print('test pipeline (test_dataloader.dataset.pipeline, as in '
              'mim test):')
        for step in pipeline:
            print(f'  {dict(step)}')
    model = init_recognizer(cfg, None, device='cpu')
    load_checkpoint_strictly(model, checkpoint)
    model.to(device)
    num_classes = model.cls_head.num_classes
    labels = load_label_map(label_map, num_classes)
    if topk is None:
        topk = min(DEFAULT_TOPK, num_classes)
    if topk > num_classes:
        raise InferenceInputError(
            f'--topk {topk} exceeds the {num_classes} classes of the model')
    try:
        result = inference_recognizer(model, sample)
    except Exception as err:  # decoders raise many types
        raise InferenceInputError(
            f'cannot decode {target}: {type(err).__name__}: {err}') from err
    scores = result.pred_score.float().cpu()
    values, indices = torch.topk(scores, topk)
    return [(labels[i], float(v)) for v, i in zip(values, indices)]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        description='Top-k action labels for a video or a frame folder.')
    parser.add_argument(
        'config', help='recipe file, or a packaged recipe\'s name (as mim)')
    parser.add_argument('checkpoint')
    parser.add_argument('input', help='video file or folder of frames')
    parser.add_argument(
        '--label-map', default=None, help='text file, one class name per line')
    parser.add_argument(
        '--topk',
        type=int,
        default=None,
        help=f'labels to print (default {DEFAULT_TOPK}, or the number of '
        'classes when fewer)')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args(argv)
    try:
        top = predict(
            args.config,
            args.checkpoint,
            args.input,
            args.label_map,
            args.topk,
            args.device,
            verbose=True)
    except (FileNotFoundError, CheckpointMismatchError,
            InferenceInputError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    for rank, (label, score) in enumerate(top, start=1):
        print(f'{rank}. {label}: {score:.4f}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
