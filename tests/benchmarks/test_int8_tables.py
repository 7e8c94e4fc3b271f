"""benchmarks.int8_tables (OURS): the int8 records as Markdown tables."""
from benchmarks import int8_tables as tables


def _record(seed: int, agreeing: int, amplitude: float,
            noise_agreeing: int) -> dict:
    return dict(
        seed=seed,
        figures=dict(
            per_frame_agreement=agreeing / 80,
            agreeing_frames=agreeing,
            frames_compared=80),
        fp32_pixel_noise=dict(
            amplitude=amplitude,
            per_frame_agreement=noise_agreeing / 80,
            agreeing_frames=noise_agreeing,
            frames_compared=80))


def test_the_noise_table_puts_int8_beside_fp32_at_each_noise() -> None:
    """One row per seed, int8's agreement, then fp32's with each noise
    amplitude (ascending); '-' where a seed has no record of one; records
    without the noise floor left out."""
    table = tables.noise_table([('a.json', _record(1, 76, 2, 70)),
                                ('b.json', _record(1, 76, 0.5, 79)),
                                ('c.json', _record(0, 80, 0.5, 80)),
                                ('d.json', dict(seed=2, figures={}))])
    assert table.splitlines() == [
        '| seed | int8: agreement (differing frames) | fp32, noise 0.5 | '
        'fp32, noise 2 |', '|---|---|---|---|',
        '| 0 | 1.0000 (0) | 1.0000 (0) | - |',
        '| 1 | 0.9500 (4) | 0.9875 (1) | 0.8750 (10) |'
    ]


def _bins(*counts: tuple) -> list:
    edges = [0.0, 0.01, 0.03, 0.1, None]
    return [
        dict(lead_from=low, lead_below=high, frames=f, differing=d)
        for low, high, (f, d) in zip(edges, edges[1:], counts)
    ]


def test_the_lead_table_counts_differing_frames_by_fp32s_lead() -> None:
    """One row per record, one column per bin: the bin's frames, and how
    many of them differ with int8 and with the noise floor; records
    without bins left out."""
    record = dict(
        seed=1,
        figures=dict(
            differing_by_fp32_lead=_bins((50, 9), (10, 1), (20, 0), (120, 0))),
        fp32_pixel_noise=dict(
            amplitude=8,
            differing_by_fp32_lead=_bins((50, 4), (10, 0), (20, 1), (120, 0))))
    table = tables.lead_table([('r.json', record),
                               ('old.json', dict(seed=0, figures={}))])
    assert table.splitlines() == [
        '| record | seed | fp32 noise | lead < 0.01 | lead 0.01-0.03 | '
        'lead 0.03-0.1 | lead >= 0.1 |', '|---|---|---|---|---|---|---|',
        '| `r.json` | 1 | 8 | 9 / 4 of 50 | 1 / 0 of 10 | 0 / 1 of 20 | '
        '0 / 0 of 120 |'
    ]
