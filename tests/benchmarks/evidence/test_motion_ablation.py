"""The ablation benchmark: its recipes, its statistics, a quick real run.

The quick run is docs/evidence.md's block (``by`` this test,
:mod:`tests.docs.blocks`): its two commands, read from the page with the
replacements its marker declares (``--quick``, ``$OUT`` this test's folder,
``$VENV`` this venv), run with bash from the clone, this venv's programs
first on ``PATH``: ``make evidence`` trains the quick run set, the
``python -m`` command reads it back.
"""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config

from benchmarks.evidence import motion_ablation as ma
from img_mmaction.utils import config_path
from tests.docs.blocks import REPO, bash_environment, blocks_run_by, run_bash

THIS_TEST = 'tests/benchmarks/evidence/test_motion_ablation.py'


def _without_backbone(cfg: Config) -> dict:
    data = cfg.to_dict()
    data['model'].pop('backbone')
    return data


def test_variants_differ_from_img_only_in_the_backbone() -> None:
    reference = Config.fromfile(str(config_path(
        ma.VARIANTS[7].recipe)))  # Res2Net IMG
    assert ma.variant_key(ma.VARIANTS[7]) == 'Res2Net IMG'
    for variant in ma.VARIANTS:
        cfg = Config.fromfile(str(config_path(variant.recipe)))
        # The same data, budget, head and training policy for every row.
        assert _without_backbone(cfg) == _without_backbone(reference)
        backbone = cfg.model.backbone
        assert backbone.get('scales',
                            4) == (4 if variant.backbone == 'Res2Net' else 1)
        temporal = backbone.get('temporal_cfg')
        expected = {
            'TSN': (False, None, None),
            'TSM': (False, None, 'AdaptiveShift'),
            '(2+1)D': (False, 'TemporalConv1d', None),
            'shift-random': (False, 'AdaptiveShift', None),
            'shift-freeze': (False, 'AdaptiveShift', None),
            'shift-pret': (False, 'AdaptiveShift', None),
            'CMEM': (True, None, None),
            'IMG': (True, 'AdaptiveShift', None),
        }[variant.name]
        actual = (backbone.with_cmem, temporal
                  and temporal['type'], backbone.get('input_temporal_cfg')
                  and backbone.input_temporal_cfg['type'])
        assert actual == expected, variant
        if variant.name == 'TSM':
            assert backbone.input_temporal_cfg['frozen'] is True
        if variant.name.startswith('shift-'):
            kind = variant.name.split('-')[1]
            assert temporal.get(
                'init', 'tsm') == ('random' if kind == 'random' else 'tsm')
            assert temporal.get('frozen', False) == (kind == 'freeze')


def test_group_accuracies_on_literal_predictions() -> None:
    labels = np.array([0, 0, 1, 2, 3, 4, 5, 6, 7, 7])
    predictions = np.array([0, 1, 1, 3, 3, 5, 5, 7, 7, 4])
    result = ma.group_accuracies(predictions, labels)
    assert result['per_class'] == [0.5, 1, 0, 1, 0, 1, 0, 0.5]
    assert result['short'] == pytest.approx((0.5 + 1 + 0 + 1) / 4)
    assert result['long'] == pytest.approx((0 + 1 + 0 + 0.5) / 4)
    # Only the last clip (7 -> 4) leaves its family.
    assert result['family'] == pytest.approx(0.9)


def _record(variant: str, seed: int, top1: float) -> dict:
    return dict(
        variant=variant,
        seed=seed,
        top1=top1,
        mean_class=top1,
        short=top1,
        long=top1,
        family=1.0,
        per_class=[top1] * 7 + [1.0])


def test_summary_and_the_seed_spread() -> None:
    runs = [
        _record('Res2Net TSM', s, v) for s, v in enumerate((0.5, 0.6, 0.7))
    ] + [
        _record('Res2Net IMG', s, v) for s, v in enumerate((0.72, 0.81, 0.9))
    ]
    runs += [
        _record('Res2Net TSN', s, v) for s, v in enumerate((0.6, 0.65, 0.7))
    ]
    summary = ma.summarise(runs, ['Res2Net TSN', 'Res2Net TSM', 'Res2Net IMG'])
    assert summary['Res2Net TSM']['top1']['mean'] == pytest.approx(0.6)
    assert summary['Res2Net TSM']['top1']['std'] == pytest.approx(0.1)
    assert summary['Res2Net TSM']['per_class'] == pytest.approx([0.6] * 7 +
                                                                [1.0])
    table = ma.format_per_class(summary)
    assert '| 0 slide right | short | 0.65 | 0.60 | 0.81 |' in table
    rows = {(r['lower'], r['higher']): r for r in ma.compare(summary)}
    tsm_img = rows[('Res2Net TSM', 'Res2Net IMG')]
    assert tsm_img['diff'] == pytest.approx(0.21)
    assert tsm_img['holds'] and tsm_img['separated']
    se = np.sqrt(0.1**2 / 3 + np.var([0.72, 0.81, 0.9], ddof=1) / 3)
    assert tsm_img['t'] == pytest.approx(0.21 / se)
    tsn_tsm = rows[('Res2Net TSN', 'Res2Net TSM')]
    assert tsn_tsm['diff'] == pytest.approx(-0.05)
    assert not tsn_tsm['holds'] and not tsn_tsm['separated']
    table = ma.format_comparisons(ma.compare(summary))
    assert '| Res2Net TSM < Res2Net IMG | +0.210 | yes | yes |' in table


def test_options_and_errors() -> None:
    assert [ma.variant_key(v) for v in ma.select_variants(['IMG'])
            ] == ['Res2Net IMG', 'ResNet IMG']
    with pytest.raises(ValueError, match="no variant 'TEA'"):
        ma.select_variants(['TEA'])
    assert ma.budget_options(5) == [
        'train_cfg.max_epochs=5', 'train_cfg.val_interval=5',
        'param_scheduler.1.T_max=5', 'param_scheduler.1.end=5'
    ]
    cfg = Config.fromfile(str(config_path(ma.VARIANTS[0].recipe)))
    cfg.merge_from_dict(
        dict(o.split('=') for o in ma.budget_options(5)), allow_list_keys=True)
    assert str(cfg.param_scheduler[1]['T_max']) == '5'
    assert str(cfg.param_scheduler[1]['end']) == '5'


@pytest.mark.slow  # mim subprocesses
def test_quick_mode_trains_and_tests_through_mim(tmp_path: Path) -> None:
    blocks = blocks_run_by(THIS_TEST)
    assert len(blocks) == 1, [b.where for b in blocks]
    make, command = blocks[0].commands()
    assert make.startswith('make evidence '), make
    env = bash_environment(
        OUT=str(tmp_path), VENV=str(Path(sys.executable).parents[1]))
    for line in (make, command):
        result = run_bash(line, REPO, env, timeout=600)
        output = result.stdout[-3000:] + result.stderr[-3000:]
        assert result.returncode == 0, output
    # The python -m command: the runs of make evidence, read back.
    assert result.stdout.count('(read back)') == 2, output
    results = json.loads((tmp_path / 'reference' / 'results.json').read_text())
    assert [r['variant']
            for r in results['runs']] == ['Res2Net TSN', 'Res2Net IMG']
    assert results['budget']['epochs'] == 1
    assert results['budget']['test_clips'] == 8
    assert results['order_blind_ceiling'] == 3 / 8
    for run in results['runs']:
        assert 0 <= run['top1'] <= 1 and len(run['per_class']) == 8
        work = tmp_path / 'work' / 'reference' / ma.slug(
            run['variant']) / 'seed0'
        assert 'randomness.seed=0' in (work / 'train.log').read_text()
    assert (tmp_path / 'reference' / 'evidence.png').stat().st_size > 1000
    assert 'Order-blind ceiling (TSN): 0.375' in result.stdout


def test_runs_span_counts_from_first_start_to_last_finish() -> None:
    runs = [
        dict(finished='2026-01-01T00:10:00+00:00', train_s=500, test_s=100),
        dict(finished='2026-01-01T00:12:00+00:00', train_s=100, test_s=20),
    ]
    # The first run started at 00:00:00, the last finished at 00:12:00.
    assert ma.runs_span(runs) == 720


def test_budget_reads_the_recipe_with_every_extra_option(tmp_path: Path
                                                         ) -> None:
    """The reported budget is the one the runs train with: the recipe with
    the extra ``--cfg-options`` merged in, not only its epochs."""
    from benchmarks.evidence import motion_bench
    data = motion_bench.generate_bench(
        tmp_path / 'data', videos_per_class=1, val_per_class=1)
    recipe = ma.VARIANTS[7].recipe  # Res2Net IMG
    plain = ma.budget(recipe, data, [])
    cfg = Config.fromfile(str(config_path(recipe)))
    assert plain['epochs'] == cfg.train_cfg.max_epochs
    assert plain['batch_size'] == cfg.train_dataloader.batch_size
    assert (plain['train_clips'], plain['test_clips']) == (8, 8)
    changed = ma.budget(
        recipe, data,
        ma.budget_options(3) +
        ['train_dataloader.batch_size=4', 'optim_wrapper.optimizer.lr=0.5'])
    assert changed['epochs'] == 3 and changed['batch_size'] == 4
    assert changed['optimizer']['lr'] == 0.5


def test_quick_plan_and_its_refusals(tmp_path: Path) -> None:
    args = ma.parse_args(['--quick', '--out', str(tmp_path), '--tag', 't'])
    assert (args.seeds, args.epochs) == ([0], 1)
    assert (args.videos_per_class, args.val_per_class) == (2, 1)
    plan = ma.make_plan(args)
    assert plan.order == list(ma.QUICK_VARIANTS)
    assert plan.extra == ma.budget_options(1)
    assert plan.out == tmp_path.resolve() and plan.tag == 't'
    with pytest.raises(ValueError, match='--jobs and --threads'):
        ma.parse_args(['--jobs', '0'])


def _run(variant: str, seed: int, top1: float, cached: bool) -> dict:
    return dict(
        _record(variant, seed, top1),
        key='cache key',
        cached=cached,
        train_s=60.0,
        test_s=30.0,
        finished=f'2026-01-01T00:0{seed + 2}:00+00:00')


def test_result_and_report_of_a_run_set(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    env = dict(
        machine='x86_64, test',
        versions=dict(torch='t', mmaction2='a', mmengine='e'),
        commit='abc',
        threads_per_run=1,
        parallel_runs=2,
        load_average=[0.5, 0.5, 0.5])
    spent = dict(epochs=1, train_clips=16, test_clips=8, extra_options=['x=1'])
    monkeypatch.setattr(ma, 'environment', lambda threads, jobs: env)
    monkeypatch.setattr(ma, 'budget', lambda recipe, data, extra: spent)
    plan = ma.make_plan(
        ma.parse_args(
            ['--variants', 'Res2Net TSM', 'Res2Net IMG', '--seeds', '0', '1']))
    runs = [
        _run('Res2Net IMG', 1, 0.8, False),
        _run('Res2Net TSM', 0, 0.4, True),
        _run('Res2Net IMG', 0, 0.6, True),
        _run('Res2Net TSM', 1, 0.3, True),
    ]
    result = ma.make_result(plan, runs, tmp_path, 0.375, 'then', 12.0, env)
    assert list(result) == [
        'tag', 'started', 'wall_s', 'runs_s', 'span_s', 'environment',
        'budget', 'order_blind_ceiling', 'summary', 'comparisons', 'runs'
    ]
    assert [(r['variant'], r['seed']) for r in result['runs']
            ] == [('Res2Net TSM', 0), ('Res2Net TSM', 1), ('Res2Net IMG', 0),
                  ('Res2Net IMG', 1)]
    assert all('key' not in r for r in result['runs'])
    assert result['runs_s'] == 4 * 90.0
    assert result['span_s'] == 150  # 00:00:30 to 00:03:00
    assert result['summary']['Res2Net IMG']['top1']['mean'] == (
        pytest.approx(0.7))
    text = ma.report_text(result, plan.seeds)
    assert text.startswith('Motion benchmark, run set "reference": 1 epochs,'
                           ' 16 training / 8 test clips, seeds [0, 1]; 1 '
                           'runs trained, 3 read back; wall time 0.2 min')
    assert '(2 runs at a time, 1 thread each; load average 0.5' in text
    assert text.split('\n\n')[0].endswith('; then. Options: x=1.')
    assert 'Order-blind ceiling (TSN): 0.375 top-1.' in text
    assert '| Res2Net TSM < Res2Net IMG | +0.350 | yes | yes |' in text
    assert text.endswith('| Res2Net IMG | 1 | 0.800 | 0.800 | 0.800 | '
                         '0.800 | 60 | 30 |\n')
