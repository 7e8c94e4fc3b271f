"""The int8 records as the Markdown tables of docs/notes/int8.md (OURS).

Reads the JSON records that ``benchmarks.int8_accuracy`` and
``benchmarks.int8_schemes`` wrote and prints one table per question:

* the accuracy runs of ``--records`` (one row per record);
* the accuracy runs on the motion benchmark (``--records``/motion-bench:
  one row per record, then the largest score difference at each frame
  position);
* the alternatives on the trained models (``--records``/schemes: one row
  per scheme or calibration size, the seeds side by side);
* int8 beside fp32 against itself on pixels with noise (``--records``/
  motion-bench/noise-floor: one row per record);
* differing frames by fp32's top-1 lead over its second (``--records``/
  motion-bench/lead: one row per record);
* the Res2NetIMG-50 runs (each record's own table).

Usage::

    python -m benchmarks.int8_tables
"""
from __future__ import annotations
import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np


def _load(folder: Path) -> List[dict]:
    """Every record of a folder (not its subfolders), by file name."""
    return [(path.name, json.loads(path.read_text()))
            for path in sorted(folder.glob('*.json'))]


def _scheme_name(record: dict) -> str:
    """``scheme, N frames of V videos`` from a record's calibration."""
    calibration = record['calibration']
    name = _scheme_option(record) or _describe(calibration['scheme'])
    videos = calibration['videos']
    below = ' (below the minimum)' if calibration.get('below_minimum') else ''
    return (f'{name}; {calibration["frames"]} frames of {videos} '
            f'video{"s" if videos != 1 else ""}{below}')


def _scheme_option(record: dict) -> Optional[str]:
    """The ``--scheme NAME`` of a record's command, or None."""
    words = record.get('command', '').split()
    if '--scheme' in words[:-1]:
        return words[words.index('--scheme') + 1]
    return None


def _describe(scheme: dict) -> str:
    """A scheme dict as the change from the default."""
    default = dict(
        op_types=['Conv'],
        per_channel=True,
        quant_format='qdq',
        activations='uint8',
        method='minmax',
        moving_average=False,
        stem_float=True,
        keep_float=[],
        reduce_range=False)
    scheme = dict(scheme)
    # Records made before the option: the stem was quantized.
    scheme.setdefault('stem_float', False)
    scheme.setdefault('moving_average', False)
    if scheme['method'] == 'percentile':
        scheme['method'] += f' {scheme.get("percentile")}'
    changes = [
        f'{key}={scheme.get(key)}' for key, value in default.items()
        if scheme.get(key) != value
    ]
    return ', '.join(changes) or 'default'


def _number(value: Optional[float]) -> str:
    """``'0.123'``, or ``'-'`` for None."""
    return '-' if value is None else f'{value:.3f}'


def _per_frame(record: dict) -> tuple:
    """A record's per-frame top-1 classes [F, N] of fp32 and int8, and
    the N labels."""
    per_frame = record['per_frame']
    return (np.array(per_frame['fp32_top1']), np.array(per_frame['int8_top1']),
            np.array(per_frame['labels']))


def _early_differing(record: dict) -> str:
    """``'a of b'``: differing frames among the first half of the frame
    positions, of all differing frames."""
    fp32, int8, _ = _per_frame(record)
    differ = fp32 != int8
    return f'{int(differ[:len(differ) // 2].sum())} of {int(differ.sum())}'


def _frame_accuracy(record: dict) -> str:
    """Top-1 against the labels over every frame, fp32 / int8."""
    fp32, int8, labels = _per_frame(record)
    return f'{(fp32 == labels).mean():.4f} / {(int8 == labels).mean():.4f}'


def accuracy_table(records: Sequence[tuple]) -> str:
    """One row per accuracy record; the fp32 lead column only when a
    record holds that figure (older records do not)."""
    lead = any('max_fp32_margin_where_differing' in record['figures']
               for _, record in records)
    lines = [
        '| record | seed | scheme | mim test top-1 | top-1 fp32 / int8 | '
        'per-frame agreement (differing frames) | differing frames among '
        'the first half | per-frame accuracy fp32 / int8 | max / mean score '
        'difference |' +
        (' largest fp32 lead where differing |' if lead else ''),
        '|---' * (9 + lead) + '|'
    ]
    for name, record in records:
        figures = record['figures']
        differing = figures['frames_compared'] - figures['agreeing_frames']
        mean = figures.get('mean_score_difference')
        row = (
            f'| `{name}` | {record["seed"]} | '
            f'{_describe(record["calibration"]["scheme"])} | '
            f'{record["training"].get("mim_test_top1", float("nan")):.3f} | '
            f'{figures["top1_fp32"]:.4f} / {figures["top1_int8"]:.4f} | '
            f'{figures["per_frame_agreement"]:.4f} ({differing}) | '
            f'{_early_differing(record)} | {_frame_accuracy(record)} | '
            f'{figures["max_score_difference"]:.3f} / ' +
            (f'{mean:.5f}' if mean is not None else '-') + ' |')
        if lead:
            row += ' ' + _number(
                figures.get('max_fp32_margin_where_differing')) + ' |'
        lines.append(row)
    return '\n'.join(lines)


def bench_table(records: Sequence[tuple]) -> str:
    """One row per accuracy record of the motion benchmark: the issue's
    figures, the targets and the training run."""
    lines = [
        '| record | seed | train time | mim test top-1 | top-1 fp32 | '
        'top-1 int8 | int8 - fp32 | per-frame agreement (differing frames) '
        '| largest score difference | targets met: top-1, agreement |',
        '|---' * 10 + '|'
    ]
    for name, record in records:
        figures, training = record['figures'], record['training']
        differing = figures['frames_compared'] - figures['agreeing_frames']
        train = training.get('train_s')
        met = figures['targets_met']
        lines.append(
            f'| `{name}` | {record["seed"]} | ' +
            ('-' if train is None else f'{train:.0f} s') +
            f' | {_number(training.get("mim_test_top1"))} | '
            f'{figures["top1_fp32"]:.4f} | {figures["top1_int8"]:.4f} | '
            f'{figures["top1_difference"]:+.4f} | '
            f'{figures["per_frame_agreement"]:.4f} ({differing} of '
            f'{figures["frames_compared"]}) | '
            f'{figures["max_score_difference"]:.3f} | '
            f'{"yes" if met["top1"] else "**no**"}, '
            f'{"yes" if met["agreement"] else "**no**"} |')
    return '\n'.join(lines)


def position_table(records: Sequence[tuple]) -> str:
    """The largest score difference at each frame position (the video
    frame of the input), one row per record."""
    stride = records[0][1]['stride']
    count = len(records[0][1]['figures']['max_score_difference_per_position'])
    lines = [
        '| record | seed | ' + ' | '.join(f'frame {i * stride}'
                                          for i in range(count)) + ' |',
        '|---' * (count + 2) + '|'
    ]
    for name, record in records:
        per_position = record['figures']['max_score_difference_per_position']
        lines.append(f'| `{name}` | {record["seed"]} | ' +
                     ' | '.join(f'{v:.3f}' for v in per_position) + ' |')
    return '\n'.join(lines)


def noise_table(records: Sequence[tuple]) -> str:
    """int8 against fp32 beside fp32 against itself on pixels with noise
    (``fp32_pixel_noise``): one row per seed, a column per amplitude.

    Args:
        records: ``(file name, record)`` pairs; those without the noise
            floor are left out.

    Returns:
        The Markdown table (``'-'`` where a seed has no record of an
        amplitude).
    """
    int8: Dict[int, dict] = {}
    noise: Dict[int, Dict[float, dict]] = defaultdict(dict)
    for _, record in records:
        floor = record.get('fp32_pixel_noise')
        if floor is None:
            continue
        int8[record['seed']] = record['figures']
        noise[record['seed']][floor['amplitude']] = floor
    amplitudes = sorted(
        {a
         for by_amplitude in noise.values()
         for a in by_amplitude})
    lines = [
        '| seed | int8: agreement (differing frames) | ' +
        ' | '.join(f'fp32, noise {a:g}' for a in amplitudes) + ' |',
        '|---' * (len(amplitudes) + 2) + '|'
    ]
    for seed in sorted(int8):
        cells = [_agreement(int8[seed])] + [
            _agreement(noise[seed][a]) if a in noise[seed] else '-'
            for a in amplitudes
        ]
        lines.append(f'| {seed} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def _lead_bin(bin_: dict) -> str:
    """``'lead 0.01-0.03'``: a bin of ``differing_by_fp32_lead``."""
    if bin_['lead_below'] is None:
        return f'lead >= {bin_["lead_from"]:g}'
    if bin_['lead_from'] == 0:
        return f'lead < {bin_["lead_below"]:g}'
    return f'lead {bin_["lead_from"]:g}-{bin_["lead_below"]:g}'


def lead_table(records: Sequence[tuple]) -> str:
    """Differing frames by fp32's top-1 lead over its second: one row per
    record, one column per bin (``int8 / fp32 with noise of frames``)."""
    rows = [(name, record) for name, record in records
            if 'differing_by_fp32_lead' in record['figures']]
    bins = rows[0][1]['figures']['differing_by_fp32_lead'] if rows else []
    lines = [
        '| record | seed | fp32 noise | ' +
        ' | '.join(_lead_bin(b) for b in bins) + ' |',
        '|---' * (len(bins) + 3) + '|'
    ]
    for name, record in rows:
        noise = record.get('fp32_pixel_noise') or {}
        noisy = noise.get('differing_by_fp32_lead', [None] * len(bins))
        cells = [
            f'{own["differing"]} / '
            f'{"-" if other is None else other["differing"]} of '
            f'{own["frames"]}' for own, other in zip(
                record['figures']['differing_by_fp32_lead'], noisy)
        ]
        amplitude = noise.get('amplitude')
        lines.append(f'| `{name}` | {record["seed"]} | '
                     f'{"-" if amplitude is None else f"{amplitude:g}"} | ' +
                     ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def _agreement(figures: dict) -> str:
    """``'0.9500 (4)'``: per-frame agreement and differing frames."""
    differing = figures['frames_compared'] - figures['agreeing_frames']
    return f'{figures["per_frame_agreement"]:.4f} ({differing})'


def alternatives_table(records: Sequence[tuple],
                       defaults: Sequence[tuple]) -> str:
    """One row per scheme and calibration, the seeds side by side."""
    rows: Dict[str, Dict[int, dict]] = defaultdict(dict)
    for _, record in list(defaults) + list(records):
        rows[_scheme_name(record)][record['seed']] = record['figures']
    seeds = sorted({seed for row in rows.values() for seed in row})
    lines = [
        '| scheme; calibration | ' +
        ' | '.join(f'seed {s}: agreement (differing), top-1 int8 - fp32'
                   for s in seeds) + ' | differing frames in all | mean score '
        'difference (mean of the seeds) |', '|---' * (len(seeds) + 3) + '|'
    ]
    for name, by_seed in rows.items():
        cells, differing, means = [], 0, []
        for seed in seeds:
            f = by_seed.get(seed)
            if f is None:
                cells.append('-')
                continue
            count = f['frames_compared'] - f['agreeing_frames']
            differing += count
            means.append(f.get('mean_score_difference', float('nan')))
            cells.append(f'{f["per_frame_agreement"]:.4f} ({count}), '
                         f'{f["top1_difference"]:+.4f}')
        lines.append(f'| {name} | ' + ' | '.join(cells) +
                     f' | {differing} | {sum(means) / len(means):.5f} |')
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Prints the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--records', default='benchmarks/records/int8_accuracy')
    parser.add_argument(
        '--schemes-records', default='benchmarks/records/int8_schemes')
    args = parser.parse_args(argv)
    accuracy = _load(Path(args.records))
    print('## Accuracy runs\n\n' + accuracy_table(accuracy))
    bench = _load(Path(args.records) / 'motion-bench')
    if bench:
        print('\n## Accuracy runs on the motion benchmark\n\n' +
              bench_table(bench) + '\n\n' + position_table(bench))
    noise = _load(Path(args.records) / 'motion-bench' / 'noise-floor')
    if noise:
        print('\n## int8 beside the fp32 noise floor\n\n' + noise_table(noise))
    lead = _load(Path(args.records) / 'motion-bench' / 'lead')
    if lead:
        print('\n## Differing frames by fp32\'s lead\n\n' + lead_table(lead))
    current = [(n, r) for n, r in accuracy
               if _describe(r['calibration']['scheme']) == 'default']
    alternatives = _load(Path(args.records) / 'schemes')
    print('\n## Alternatives on the trained models\n\n' +
          alternatives_table(alternatives, current))
    for name, record in _load(Path(args.schemes_records)):
        print(f'\n## {name}: {record["model"]}; {record["date"]}, '
              f'load {record["load_average"]} -> '
              f'{record["load_average_end"]}\n\n{record["table"]}')


if __name__ == '__main__':
    main()
