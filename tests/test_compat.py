"""Each upstream workaround in img_mmaction.compat is needed and active.

For every fix, one test shows the upstream defect is real (the original
object, or a fresh interpreter without the plugin, fails) and one shows the
plugin's fix makes the same operation work. The framework: each fix is
probed, installed only where needed, logged once, and one switch turns all
of them off.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import img_mmaction  # noqa: F401  (applies the fixes)
from img_mmaction import compat

REPO = Path(__file__).resolve().parents[1]


def run_python(code: str) -> subprocess.CompletedProcess:
    """Runs ``code`` in a fresh interpreter of this venv."""
    return subprocess.run([sys.executable, '-W', 'ignore', '-c', code],
                          capture_output=True,
                          text=True,
                          timeout=300)


# -- 1. missing mmaction.models.localizers.drn ---------------------------
def test_drn_missing_without_plugin() -> None:
    """Upstream defect: the wheel cannot import mmaction.models."""
    result = run_python('import mmaction.models')
    assert result.returncode != 0
    assert 'mmaction.models.localizers.drn' in result.stderr


def test_drn_fallback_makes_models_importable() -> None:
    result = run_python('import img_mmaction, mmaction.models\n'
                        'from mmaction.registry import MODELS\n'
                        'assert MODELS.get("Recognizer2D") is not None\n'
                        'from mmaction.models.localizers.drn import DRN\n'
                        'try:\n'
                        '    DRN()\n'
                        'except ImportError as e:\n'
                        '    assert "2714" in str(e); print("clear error")\n')
    assert result.returncode == 0, result.stderr
    assert 'clear error' in result.stdout


def test_drn_fallback_never_shadows_a_real_module() -> None:
    """Real finders are asked first; ours answers only for the missing name."""
    import importlib.machinery
    ours = next(i for i, f in enumerate(sys.meta_path)
                if isinstance(f, compat.DRNFallbackFinder))
    # PathFinder (site-packages) sits in sys.meta_path as a class.
    assert sys.meta_path.index(importlib.machinery.PathFinder) < ours
    finder = sys.meta_path[ours]
    assert finder.find_spec('mmaction.models.localizers.bmn', None) is None
    assert finder.find_spec('somepkg.drn', None) is None
    assert finder.find_spec('mmaction.models.localizers.drn', None) \
        is not None


# -- 2. checkpoints under weights_only=True ---------------------------------
def _save_mmengine_style_checkpoint(path: Path) -> None:
    """Saves what mmengine's runner puts in a checkpoint's message hub."""
    from mmengine.logging import HistoryBuffer
    buffer = HistoryBuffer()
    buffer.update(1.5)
    checkpoint = {
        'meta': {
            'epoch': 1,
            'seed': np.int64(3),
            'dtype': np.dtype('float32'),
            'hist': np.arange(3.0)
        },
        'state_dict': {
            'w': torch.ones(2)
        },
        'message_hub': {
            'log_scalars': {
                'loss': buffer
            },
            'stat': getattr(HistoryBuffer, 'mean')
        },
    }
    torch.save(checkpoint, path)


def test_checkpoint_refused_without_allowlist(tmp_path: Path) -> None:
    """Upstream defect: torch refuses mmengine checkpoints by default."""
    path = tmp_path / 'ckpt.pth'
    _save_mmengine_style_checkpoint(path)
    result = run_python(
        'import torch, pickle\n'
        f'try:\n    torch.load({str(path)!r}, weights_only=True)\n'
        'except pickle.UnpicklingError as e:\n'
        '    print("refused", "Unsupported global" in str(e))\n')
    assert 'refused True' in result.stdout, result.stderr


def test_checkpoint_loads_with_allowlist(tmp_path: Path) -> None:
    from mmengine.runner.checkpoint import _load_checkpoint
    path = tmp_path / 'ckpt.pth'
    _save_mmengine_style_checkpoint(path)
    loaded = _load_checkpoint(str(path), map_location='cpu')
    assert loaded['message_hub']['log_scalars']['loss'].mean() == 1.5
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))


class _RunsCode:
    """Pickles to ``os.system(<touch marker>)``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


class _GetattrExploit:
    """Pickles to ``getattr(owner, name)``: abuses the allowed getattr slot.

    ``numpy.ndarray`` is on the allowlist, so an unrestricted getattr would
    hand the unpickler ``ndarray.tofile``, which writes files.
    """

    def __init__(self, owner: type, name: str) -> None:
        self.owner, self.name = owner, name

    def __reduce__(self):
        return getattr, (self.owner, self.name)


def _payload(kind: str, marker: Path) -> object:
    from mmengine.logging import HistoryBuffer
    return {
        'system': lambda: _RunsCode(marker),
        'ndarray_tofile': lambda: _GetattrExploit(np.ndarray, 'tofile'),
        'private_attr': lambda: _GetattrExploit(HistoryBuffer, '__init__'),
    }[kind]()


@pytest.mark.parametrize('kind', ['system', 'ndarray_tofile', 'private_attr'])
def test_crafted_checkpoint_is_refused_and_code_does_not_run(
        tmp_path: Path, kind: str) -> None:
    from mmengine.runner.checkpoint import _load_checkpoint
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    obj = _payload(kind, marker)
    torch.save({'state_dict': {}, 'x': obj}, path)
    with pytest.raises(compat.UntrustedCheckpointError, match='evil.pth'):
        _load_checkpoint(str(path), map_location='cpu')
    assert not marker.exists()


def test_project_never_disables_weights_only() -> None:
    offenders = []
    for path in REPO.rglob('*.py'):
        if '.venv' in path.parts or path.name == 'test_compat.py':
            continue
        text = path.read_text(encoding='utf-8', errors='ignore')
        if 'weights_only=False' in text.replace(' ', ''):
            offenders.append(str(path))
    assert offenders == []


# -- 3. numpy 2 ColorJitter hue overflow ---------------------------------
def _hue_inputs():
    rng = np.random.default_rng(0)
    return rng.uniform(0, 255, (8, 8, 3)).astype(np.float32), -0.06


def test_color_jitter_original_overflows_on_numpy2() -> None:
    if int(np.__version__.split('.')[0]) < 2:
        pytest.skip('the defect only exists under numpy >= 2')
    img, factor = _hue_inputs()
    with pytest.raises(OverflowError):
        compat.ORIGINALS['ColorJitter.adjust_hue'](img, factor)


def test_color_jitter_fix_matches_numpy1_semantics() -> None:
    import cv2
    from mmaction.datasets.transforms.processing import ColorJitter
    img, factor = _hue_inputs()
    out = ColorJitter.adjust_hue(img, factor)
    # numpy 1.26: uint8 + (-15) promotes to int16, then % 180.
    hsv = cv2.cvtColor(
        np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_RGB2HSV)
    hue = hsv[..., 0].astype(np.int64) + int(factor * 255)
    hsv[..., 0] = np.mod(hue, 180).astype(np.uint8)
    expected = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).astype(np.float32)
    np.testing.assert_array_equal(out, expected)


# -- 4. CPU multi-process init ---------------------------------------------
_DIST_SNIPPET = '''
import os, torch
os.environ.update(RANK="0", LOCAL_RANK="0", WORLD_SIZE="1",
                  MASTER_ADDR="127.0.0.1", MASTER_PORT="{port}")
{prefix}
from mmengine.dist import init_dist
init_dist("pytorch", backend="gloo")
print("world", torch.distributed.get_world_size())
'''


def test_cpu_dist_init_fails_without_plugin() -> None:
    if torch.cuda.is_available():
        pytest.skip('the defect only shows on a machine without CUDA')
    result = run_python(_DIST_SNIPPET.format(port=29611, prefix=''))
    assert result.returncode != 0
    assert 'cuda' in result.stderr.lower()


def test_cpu_dist_init_works_with_plugin() -> None:
    result = run_python(
        _DIST_SNIPPET.format(port=29612, prefix='import img_mmaction'))
    assert result.returncode == 0, result.stderr
    assert 'world 1' in result.stdout


def test_fixes_are_idempotent() -> None:
    before = list(sys.meta_path)
    compat.apply_all()
    assert sys.meta_path == before
    from mmengine.dist import utils as dist_utils
    assert dist_utils._init_dist_pytorch is compat._init_dist_pytorch_cpu_aware


# -- 5. atomic checkpoint writes -------------------------------------------
class _DiesHalfway:
    """A file whose write stores half of the data, then fails (a kill)."""

    def __init__(self, real) -> None:
        self.real = real

    def write(self, data: bytes) -> None:
        self.real.write(data[:len(data) // 2])
        self.real.flush()
        raise OSError('killed while writing')

    def __getattr__(self, name):
        return getattr(self.real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.real.close()


def _dying_open(*args, **kwargs):
    return _DiesHalfway(open(*args, **kwargs))


def _save_twice(path: Path, put, monkeypatch, module) -> None:
    from mmengine.fileio.backends.local_backend import LocalBackend
    put(LocalBackend(), b'old checkpoint ' * 100, str(path))
    monkeypatch.setattr(module, 'open', _dying_open, raising=False)
    with pytest.raises(OSError, match='killed while writing'):
        put(LocalBackend(), b'new checkpoint ' * 100, str(path))


def test_original_put_leaves_a_truncated_checkpoint(tmp_path: Path,
                                                    monkeypatch) -> None:
    from mmengine.fileio.backends import local_backend
    path = tmp_path / 'epoch_1.pth'
    _save_twice(path, compat.ORIGINALS['LocalBackend.put'], monkeypatch,
                local_backend)
    assert path.read_bytes() == (b'new checkpoint ' * 100)[:750]


def test_atomic_put_keeps_the_previous_checkpoint(tmp_path: Path,
                                                  monkeypatch) -> None:
    from mmengine.fileio.backends.local_backend import LocalBackend
    path = tmp_path / 'epoch_1.pth'
    assert LocalBackend.put is compat._atomic_put
    _save_twice(path, LocalBackend.put, monkeypatch, compat.fix_module(5))
    assert path.read_bytes() == b'old checkpoint ' * 100
    assert [p.name for p in tmp_path.iterdir()] == ['epoch_1.pth']


# -- 6. process group torn down before interpreter exit ----------------------
# The probe is registered before the plugin is imported; atexit runs handlers
# last-in first-out, so it sees the group after the plugin's handler ran.

#: Start of every exit probe: a 1-process group on its own port.
_PROBE_PREAMBLE = '''
import atexit, os, torch
os.environ.update(RANK="0", LOCAL_RANK="0", WORLD_SIZE="1",
                  MASTER_ADDR="127.0.0.1", MASTER_PORT="{port}")
'''
_EXIT_PROBE = _PROBE_PREAMBLE + '''
atexit.register(
    lambda: print("alive at exit", torch.distributed.is_initialized()))
{init}
torch.distributed.barrier()
'''

#: How the probes start the group with the plugin: mmengine's own init.
_PLUGIN_INIT = ('import img_mmaction\n'
                'from mmengine.dist import init_dist\n'
                'init_dist("pytorch", backend="gloo")')


def test_process_group_outlives_the_program_without_plugin() -> None:
    """The precondition of pytorch/pytorch#190489.

    torch does not destroy the group by itself, and mmengine (0.10.7) has no
    call to ``destroy_process_group`` outside its own test helpers; mmengine's
    ``init_dist`` cannot run here without fix 4, so torch's init is used.
    """
    init = 'torch.distributed.init_process_group("gloo")'
    result = run_python(_EXIT_PROBE.format(port=29613, init=init))
    assert result.returncode == 0, result.stderr
    assert 'alive at exit True' in result.stdout


def test_plugin_destroys_the_process_group_at_exit() -> None:
    result = run_python(_EXIT_PROBE.format(port=29614, init=_PLUGIN_INIT))
    assert result.returncode == 0, result.stderr
    assert 'alive at exit False' in result.stdout


# A runner-like owner: the DDP wrapper lives in a reference cycle, as in
# mmengine's Runner, so only a garbage collection frees it. The probe, which
# runs after the plugin's handler, prints the gloo threads still running.
_DDP_EXIT_PROBE = _PROBE_PREAMBLE + '''
def gloo_threads():
    names = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{{task}}/comm") as comm:
                names.append(comm.read().strip())
        except FileNotFoundError:  # the thread ended meanwhile
            pass
    return sorted(name for name in names if "gloo" in name)
atexit.register(lambda: print("gloo threads at exit", gloo_threads()))
{init}
class Owner:
    pass
owner = Owner()
owner.itself = owner
owner.model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(4, 2))
owner.model(torch.randn(3, 4)).sum().backward()
print("gloo threads while training", gloo_threads())
del owner
'''

_needs_proc = pytest.mark.skipif(
    not Path('/proc/self/task').is_dir(),
    reason='thread names are read from /proc')


@_needs_proc
def test_destroying_the_group_leaves_a_ddp_held_group_running() -> None:
    """Why the handler collects garbage: destroy alone joins no thread."""
    init = ('torch.distributed.init_process_group("gloo")\n'
            'atexit.register(torch.distributed.destroy_process_group)')
    result = run_python(_DDP_EXIT_PROBE.format(port=29615, init=init))
    assert result.returncode == 0, result.stderr
    assert "gloo threads while training ['gloo_tcp_loop'" in result.stdout
    assert "gloo threads at exit ['gloo_tcp_loop'" in result.stdout


@_needs_proc
def test_plugin_joins_the_threads_of_a_ddp_held_group_at_exit() -> None:
    result = run_python(_DDP_EXIT_PROBE.format(port=29616, init=_PLUGIN_INIT))
    assert result.returncode == 0, result.stderr
    assert "gloo threads while training ['gloo_tcp_loop'" in result.stdout
    assert 'gloo threads at exit []' in result.stdout


def test_teardown_is_a_no_op_without_a_group() -> None:
    assert not torch.distributed.is_initialized()
    compat.destroy_process_group_at_exit()  # must not raise


def test_teardown_runs_once_however_often_the_fixes_are_applied() -> None:
    code = '''
import atexit, torch
calls = []
atexit.register(lambda: print("teardowns", len(calls)))
import img_mmaction
from img_mmaction import compat
compat.apply_all()
compat.apply_all()
# The handler asks is_available() once per call.
torch.distributed.is_available = lambda: calls.append(1) or False
'''
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert 'teardowns 1' in result.stdout


# -- the framework: probes, one log line, one switch -------------------------
def test_every_fix_is_needed_on_this_stack_and_active() -> None:
    """On the pinned CPU stack every probe finds its defect."""
    assert compat.STATUS == {fix.number: 'active' for fix in compat.FIXES}
    for fix in compat.FIXES:
        assert hasattr(compat.fix_module(fix.number), 'UPSTREAM'), fix


def run_python_env(code: str, **env: str) -> subprocess.CompletedProcess:
    """Runs ``code`` in a fresh interpreter with extra environment."""
    return subprocess.run([sys.executable, '-W', 'ignore', '-c', code],
                          capture_output=True,
                          text=True,
                          timeout=300,
                          env=dict(os.environ, **env))


def test_import_prints_nothing() -> None:
    """The fixes are logged at debug level: a plain import is silent."""
    result = run_python('import img_mmaction')
    assert result.returncode == 0, result.stderr
    assert result.stdout == ''
    assert 'compat fixes' not in result.stderr


def test_summary_names_the_active_fixes_and_the_switches() -> None:
    line = compat.summary()
    assert line.startswith('img_mmaction compat fixes active: 1 (drn), 2 ')
    assert 'IMG_MMACTION_COMPAT=0' in line
    assert 'IMG_MMACTION_COMPAT_OFF' in line


def test_switch_off_keeps_only_what_import_needs() -> None:
    """IMG_MMACTION_COMPAT=0 turns every fix off but the one without which
    mmaction.models cannot import (fix 1 on the 1.2.0 wheel)."""
    result = run_python_env(
        'import sys, img_mmaction\n'
        'from img_mmaction import compat\n'
        'print(compat.STATUS)\n'
        'print(compat.summary())\n',
        IMG_MMACTION_COMPAT='0')
    assert result.returncode == 0, result.stderr
    status = eval(result.stdout.splitlines()[0])  # a dict this test printed
    assert status == {1: 'required', **{n: 'off' for n in range(2, 9)}}
    assert 'required: 1 (drn)' in result.stdout


def test_one_fix_can_be_switched_off_by_name_or_number() -> None:
    for value in ('segment_guard', '8', 'segment_guard,color_jitter'):
        result = run_python_env(
            'import img_mmaction\n'
            'from img_mmaction import compat\n'
            'print(sorted(n for n, s in compat.STATUS.items() '
            'if s == "off"))\n',
            IMG_MMACTION_COMPAT_OFF=value)
        assert result.returncode == 0, result.stderr
        expected = [3, 8] if 'color_jitter' in value else [8]
        assert result.stdout.strip() == str(expected), value


def test_an_unknown_fix_name_is_refused_with_the_names() -> None:
    result = run_python_env(
        'import img_mmaction', IMG_MMACTION_COMPAT_OFF='segmentguard')
    assert result.returncode != 0
    assert "IMG_MMACTION_COMPAT_OFF names 'segmentguard'" in result.stderr
    assert 'segment_guard' in result.stderr


def test_fix_1_cannot_be_switched_off_where_import_needs_it() -> None:
    result = run_python_env(
        'import img_mmaction', IMG_MMACTION_COMPAT_OFF='drn')
    assert result.returncode != 0
    assert 'fix 1 (drn) is required' in result.stderr


def test_probes_say_not_needed_once_a_defect_is_gone(monkeypatch) -> None:
    """A fixed upstream is left alone: each probe reads the current code."""
    import inspect

    from mmengine.runner import runner
    teardown = compat.fix_module(6)
    real = inspect.getsource
    monkeypatch.setattr(
        inspect, 'getsource', lambda obj: real(obj) +
        ('\n# destroy_process_group()' if obj is runner else ''))
    assert not teardown.needed()
    jitter = compat.fix_module(3)
    monkeypatch.setitem(compat.ORIGINALS, 'ColorJitter.adjust_hue',
                        jitter._adjust_hue_int16)
    assert not jitter.needed()


# -- 7. TSMOptimWrapperConstructor and the adaptive shift --------------------
def _tiny_img_recognizer():
    from mmaction.registry import MODELS
    return MODELS.build(
        dict(
            type='Recognizer2D',
            backbone=dict(
                type='Res2NetIMG',
                num_segments=4,
                base_channels=16,
                stem_channels=16,
                stage_blocks=(1, 1, 1, 1),
                temporal_cfg=dict(type='AdaptiveShift', shift_div=2)),
            cls_head=dict(
                type='TSMHead', num_classes=3, in_channels=512,
                num_segments=4)))


def _stock_constructor(cls):
    return cls(
        dict(
            type='OptimWrapper',
            optimizer=dict(type='SGD', lr=0.01, weight_decay=1e-4)),
        dict(fc_lr5=True))


def test_stock_tsm_constructor_refuses_the_adaptive_shift() -> None:
    stock = compat.ORIGINALS['TSMOptimWrapperConstructor']
    with pytest.raises(ValueError, match='New atomic module type'):
        _stock_constructor(stock)(_tiny_img_recognizer())


def test_registered_tsm_constructor_takes_the_shift_as_a_conv_weight() -> None:
    from mmaction.registry import OPTIM_WRAPPER_CONSTRUCTORS
    model = _tiny_img_recognizer()
    cls = OPTIM_WRAPPER_CONSTRUCTORS.get('TSMOptimWrapperConstructor')
    groups = _stock_constructor(cls)(model).optimizer.param_groups
    grouped = [id(p) for g in groups for p in g['params']]
    assert sorted(grouped) == sorted(id(p) for p in model.parameters())
    shifts = {
        id(m.weight)
        for m in model.modules() if type(m).__name__ == 'AdaptiveShift'
    }
    normal_weight = groups[2]
    assert shifts <= {id(p) for p in normal_weight['params']}
    assert (normal_weight['lr'], normal_weight['weight_decay']) == (0.01, 1e-4)


def test_registered_tsm_constructor_equals_the_stock_one_on_stock_tsm(
) -> None:
    """On a model without shift kernels, the groups are the stock ones,
    tensor for tensor, lr and weight decay included."""
    from mmaction.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
    from mmengine.config import Config

    from img_mmaction.testing import TINY_TSM_CONFIG
    model = MODELS.build(Config.fromfile(str(TINY_TSM_CONFIG)).model)
    ours = OPTIM_WRAPPER_CONSTRUCTORS.get('TSMOptimWrapperConstructor')
    stock = compat.ORIGINALS['TSMOptimWrapperConstructor']
    assert ours is not stock
    got, expected = (
        _stock_constructor(cls)(model).optimizer.param_groups
        for cls in (ours, stock))
    assert len(got) == len(expected) == 7
    for mine, theirs in zip(got, expected):
        assert [id(p) for p in mine['params']] == \
            [id(p) for p in theirs['params']]
        assert (mine['lr'], mine['weight_decay']) == (theirs['lr'],
                                                      theirs['weight_decay'])


# -- 8. Recognizer2D checks frames per sample --------------------------------
def test_stock_recognizer_mixes_clips_without_a_word() -> None:
    """The defect: 6 frames per sample for 4 segments, batch 2 (12 frames,
    a multiple of 4) runs through the original code."""
    model = _tiny_img_recognizer()
    original = compat.ORIGINALS['Recognizer2D.extract_feat']
    model.cls_head.num_segments = 4
    scores, _ = original(model, torch.randn(2, 6, 3, 32, 32), stage='head')
    assert scores.shape[0] == 3  # 12 frames became 3 clips of 2 samples


def test_guard_names_frames_segments_and_keys() -> None:
    model = _tiny_img_recognizer()
    with pytest.raises(
            ValueError,
            match=r'each sample has 6 frames, which '
            r'is not a multiple of model.backbone.num_segments=4.*'
            r'SampleFrames num_clips'):
        model.extract_feat(torch.randn(2, 6, 3, 32, 32), stage='head')
    model.cls_head.num_segments = 8
    with pytest.raises(
            ValueError,
            match=r'model.backbone.num_segments=4 but '
            r'model.cls_head.num_segments=8'):
        model.extract_feat(torch.randn(2, 4, 3, 32, 32), stage='head')
    model.cls_head.num_segments = 4
    from mmaction.structures import ActionDataSample
    sample = ActionDataSample().set_gt_label(0)
    with pytest.raises(ValueError, match='each training sample has 8 frames'):
        model(torch.randn(1, 8, 3, 32, 32), [sample], mode='loss')
    # Several views of 4 frames are fine in testing.
    model.eval()
    with torch.no_grad():
        scores, _ = model.extract_feat(
            torch.randn(1, 12, 3, 32, 32), stage='head', test_mode=True)
    assert torch.isfinite(scores).all()


def test_guard_allows_several_clips_in_tensor_mode() -> None:
    """Stock MMAction2 allows mode='tensor' on several clips per sample;
    only the training step (mode='loss') needs one clip per sample."""
    model = _tiny_img_recognizer()
    with torch.no_grad():
        feats = model(torch.randn(1, 12, 3, 32, 32), mode='tensor')
        scores, _ = model.extract_feat(
            torch.randn(1, 12, 3, 32, 32), stage='head')
    assert feats.shape == (12, 512, 1, 1)  # backbone features per frame
    assert scores.shape == (3, 3)  # one score per clip of 4 frames
    from mmaction.structures import ActionDataSample
    sample = ActionDataSample().set_gt_label(0)
    with pytest.raises(ValueError, match='each training sample has 12'):
        model(torch.randn(1, 12, 3, 32, 32), [sample], mode='loss')


def test_guard_names_the_head_channels_and_the_backbone_output() -> None:
    model = _tiny_img_recognizer()
    model.cls_head.in_channels = 256
    model.cls_head.fc_cls = torch.nn.Linear(256, 3)
    from mmaction.structures import ActionDataSample
    sample = ActionDataSample().set_gt_label(0)
    message = (r'model.cls_head.in_channels=256, but the backbone gives 512 '
               r'channels \(Res2NetIMG\): set model.cls_head.in_channels=512')
    for mode in ('predict', 'loss'):
        with pytest.raises(ValueError, match=message):
            model(torch.randn(1, 4, 3, 32, 32), [sample], mode=mode)
    with pytest.raises(ValueError, match=message):
        model.extract_feat(torch.randn(1, 4, 3, 32, 32), stage='head')
