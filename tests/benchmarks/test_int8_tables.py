"""benchmarks.int8_tables (OURS): the int8 records as Markdown tables."""
from benchmarks import int8_tables as tables


def _record(seed: int, agreeing: int, noise_agreeing: int) -> dict:
    return dict(
        seed=seed,
        figures=dict(
            per_frame_agreement=agreeing / 80,
            agreeing_frames=agreeing,
            frames_compared=80,
            max_score_difference=0.25),
        fp32_pixel_noise=dict(
            amplitude=0.5,
            per_frame_agreement=noise_agreeing / 80,
            agreeing_frames=noise_agreeing,
            frames_compared=80,
            last_frame_top1_changed=0.1,
            max_score_difference=0.125))


def test_the_noise_table_puts_int8_beside_fp32_with_pixel_noise() -> None:
    table = tables.noise_table([('a.json', _record(1, 76, 78)),
                                ('b.json', dict(seed=2, figures={}))])
    lines = table.splitlines()
    assert len(lines) == 3  # a record without the noise floor is left out
    assert lines[2] == ('| `a.json` | 1 | 0.9500 (4 of 80) | 0.250 | 0.5 | '
                        '0.9750 (2 of 80) | 0.100 | 0.125 |')
