"""benchmarks.records (OURS): what the lab's JSON records hold."""
from pathlib import Path

import pytest

from benchmarks.records import recorded_path


def test_paths_under_the_working_folder_are_recorded_relative(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A record names a file inside the repository as the repository's
    users see it, not as this machine's absolute path."""
    monkeypatch.chdir(tmp_path)
    inside = tmp_path / 'int8_output' / 'work' / 'epoch_8.pth'
    assert recorded_path(inside) == 'int8_output/work/epoch_8.pth'
    assert recorded_path('int8_output/x.pth') == 'int8_output/x.pth'
    outside = tmp_path.parent / 'elsewhere.pth'
    assert recorded_path(outside) == str(outside.resolve())
