"""studies.shift_impls: both adaptive-shift implementations, real shapes."""
import pytest
import torch

from benchmarks.studies import shift_impls as bench_shift


@pytest.mark.parametrize(
    'layout', [torch.contiguous_format, torch.channels_last],
    ids=['nchw', 'channels_last'])
@pytest.mark.parametrize('channels,side', [(26, 56), (208, 7)])
def test_implementations_equal_at_res2net_slice_shapes(
        channels: int, side: int, layout: torch.memory_format) -> None:
    torch.manual_seed(0)
    modules = bench_shift.shift_pair(channels, 8)
    # Two clips, so that a shift leaking across the clip boundary shows.
    x = torch.randn(16, channels, side, side).contiguous(memory_format=layout)
    bench_shift.check_equal(modules, x)


def test_check_detects_a_mirrored_kernel() -> None:
    torch.manual_seed(0)
    modules = bench_shift.shift_pair(8, 4)
    with torch.no_grad():
        modules['conv1d'].weight.copy_(modules['conv1d'].weight.flip(1))
    with pytest.raises(AssertionError):
        bench_shift.check_equal(modules, torch.randn(8, 8, 5, 5))


def test_check_detects_a_shift_across_clips() -> None:
    torch.manual_seed(0)
    modules = bench_shift.shift_pair(8, 4)
    # Same kernel, but the conv1d copy treats both clips as one of 8
    # frames: frames 3 and 4 would mix.
    modules['conv1d'].num_segments = 8
    with pytest.raises(AssertionError):
        bench_shift.check_equal(modules, torch.randn(8, 8, 5, 5))


def test_compare_reports_all_four_timings() -> None:
    torch.manual_seed(0)
    row = bench_shift.compare(8, 6, num_segments=4, repeats=2)
    assert set(row) == {
        'sum fwd', 'conv1d fwd', 'sum fwd+bwd', 'conv1d fwd+bwd'
    }
    assert all(value > 0 for value in row.values())
