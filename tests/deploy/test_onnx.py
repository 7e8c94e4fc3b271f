"""IMG under ONNX export (a dynamic clip axis), torch.compile and autocast."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from img_mmaction.models import AdaptiveShift, Res2NetIMG
from img_mmaction.utils import config_path

DEMO_IMG = config_path(
    'demo/img_res2net-tiny_1xb8-1x1x8-12e_motion-demo-rgb.py')


def tiny_backbone() -> Res2NetIMG:
    torch.manual_seed(0)
    return Res2NetIMG(
        num_segments=4,
        base_channels=16,
        stem_channels=16,
        stage_blocks=(1, 1, 1, 1),
        temporal_cfg=dict(type='AdaptiveShift', shift_div=2,
                          init='random')).eval()


def test_onnx_export_matches_pytorch(tmp_path: Path) -> None:
    out = tmp_path / 'img.onnx'
    result = subprocess.run([
        sys.executable, '-W', 'ignore', '-m', 'img_mmaction.deploy.onnx',
        str(DEMO_IMG), '--shape', '8', '3', '56', '56', '--out',
        str(out), '--verify', '--atol', '1e-4'
    ],
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.stat().st_size > 0
    assert '(1 and 2 clips)' in result.stdout
    error = float(
        result.stdout.split('max |onnxruntime - torch| = ')[1].split()[0])
    assert error <= 1e-4


def test_torch_compile_matches_eager() -> None:
    model = tiny_backbone()
    x = torch.randn(8, 3, 32, 32)
    with torch.no_grad():
        eager = model(x)
        compiled = torch.compile(model, backend='aot_eager')(x)
    torch.testing.assert_close(compiled, eager, rtol=1e-5, atol=1e-5)


def test_compiled_shift_gradients_match_eager() -> None:
    shift = AdaptiveShift(8, 4, shift_div=4, init='random')
    x = torch.randn(8, 8, 5, 5, requires_grad=True)
    shift(x).square().sum().backward()
    eager_grads = (x.grad.clone(), shift.weight.grad.clone())
    x.grad = shift.weight.grad = None
    torch.compile(shift, backend='aot_eager')(x).square().sum().backward()
    torch.testing.assert_close(x.grad, eager_grads[0])
    torch.testing.assert_close(shift.weight.grad, eager_grads[1])


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_autocast_is_finite_and_close(dtype: torch.dtype) -> None:
    model = tiny_backbone()
    x = torch.randn(8, 3, 32, 32)
    with torch.no_grad():
        reference = model(x)
        with torch.autocast('cpu', dtype=dtype):
            low = model(x)
    assert torch.isfinite(low).all()
    relative = (low.float() - reference).norm() / reference.norm()
    assert relative < 0.05


def test_one_file_takes_one_and_two_clips(tmp_path: Path) -> None:
    import onnxruntime

    from img_mmaction.deploy.onnx import build, export, verify
    model = build(str(DEMO_IMG), None)
    out = export(model, (8, 3, 56, 56), tmp_path / 'img.onnx')
    session = onnxruntime.InferenceSession(str(out))
    for clips in (1, 2, 3):
        frames = torch.randn(clips * 8, 3, 56, 56).numpy()
        assert session.run(None, {'frames': frames})[0].shape == (clips, 8)
    assert verify(model, out, (8, 3, 56, 56)) <= 1e-4
