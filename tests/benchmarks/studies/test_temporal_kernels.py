"""The kernel statistics that explain the (2+1)D evidence rows."""
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from benchmarks.studies import temporal_kernels as tk
from img_mmaction.models import Res2NetIMG
from img_mmaction.models.temporal import AdaptiveShift, TemporalConv1d


def test_tsm_shift_is_fully_asymmetric() -> None:
    stats = tk.kernel_stats(AdaptiveShift(16, 8).weight.detach())
    # 2 of 16 channels take frame t+1, 2 take t-1, 12 keep frame t.
    assert stats['off_centre'] == pytest.approx(math.sqrt(4 / 12))
    assert stats['asymmetry'] == pytest.approx(1.0)


def test_identity_conv_has_no_neighbour_taps() -> None:
    stats = tk.kernel_stats(TemporalConv1d(6, 8).conv.weight.detach())
    assert stats['off_centre'] == 0 and math.isnan(stats['asymmetry'])


def test_symmetric_kernel_has_zero_asymmetry() -> None:
    weight = torch.tensor([[0.3, 1.0, 0.3], [-0.2, 0.5, -0.2]])
    assert tk.kernel_stats(weight)['asymmetry'] == 0


def test_other_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match=r'got \(4, 4\)'):
        tk.kernel_taps(torch.zeros(4, 4))


def test_command_reads_every_temporal_layer_of_a_checkpoint(tmp_path: Path
                                                            ) -> None:
    model = Res2NetIMG(
        depth=50,
        stage_blocks=(1, 1, 1, 1),
        base_width=4,
        num_segments=8,
        temporal_cfg=dict(type='TemporalConv1d', init='random'))
    layers = [m for m in model.modules() if isinstance(m, TemporalConv1d)]
    state = {f'backbone.{k}': v for k, v in model.state_dict().items()}
    assert len(tk.temporal_kernels(state)) == len(layers) > 0
    path = tmp_path / 'epoch_1.pth'
    torch.save(dict(state_dict=state), path)
    out = subprocess.run([
        sys.executable, '-m', 'benchmarks.studies.temporal_kernels',
        str(path)
    ],
                         capture_output=True,
                         text=True,
                         check=True).stdout
    assert f'{len(layers)} temporal layers, off_centre' in out
    empty = tmp_path / 'empty.pth'
    torch.save(dict(state_dict={}), empty)
    failed = subprocess.run([
        sys.executable, '-m', 'benchmarks.studies.temporal_kernels',
        str(empty)
    ],
                            capture_output=True,
                            text=True)
    assert failed.returncode != 0 and 'no temporal kernel' in failed.stderr
