"""The annotation checker: every problem of a list, with its file:line."""
import subprocess
import sys
from pathlib import Path

import pytest

from img_mmaction.datasets import check_annotation_file
from img_mmaction.testing import make_video_dataset
from .test_robust import bad_rawframe_list


def test_checker_reports_every_problem_with_its_line(tmp_path: Path) -> None:
    ann = bad_rawframe_list(tmp_path)
    problems = check_annotation_file(
        str(ann), str(tmp_path / 'rawframes'), kind='rawframe', num_classes=2)
    found = {p.line: p.message for p in problems}
    assert sorted(found) == [2, 3, 4, 5, 6]
    assert 'expected 3 columns' in found[2]
    assert "'cat' is not an integer" in found[3]
    assert 'out of range [0, 2)' in found[4]
    assert 'does not exist' in found[5]
    assert '1 of 6 frames missing' in found[6] and '00004.jpg' in found[6]
    result = subprocess.run([
        sys.executable, '-W', 'ignore', '-m',
        'img_mmaction.datasets.annotation_check',
        str(ann), '--data-prefix',
        str(tmp_path / 'rawframes'), '--kind', 'rawframe', '--num-classes', '2'
    ],
                            capture_output=True,
                            text=True)
    assert result.returncode == 1
    assert f'{ann}:3: label' in result.stdout


@pytest.fixture()
def broken_videos(tmp_path: Path):
    """Five videos: fine, truncated to 1000 bytes, two thirds kept,
    zero frames, empty."""
    videos_dir, ann = make_video_dataset(tmp_path, num_videos=5)
    whole = (videos_dir / 'clip_0000.mp4').read_bytes()
    (videos_dir / 'clip_0001.mp4').write_bytes(whole[:1000])
    (videos_dir / 'clip_0002.mp4').write_bytes(whole[:len(whole) * 2 // 3])
    import cv2
    writer = cv2.VideoWriter(
        str(videos_dir / 'clip_0003.mp4'), cv2.VideoWriter_fourcc(*'mp4v'), 10,
        (64, 64))
    writer.release()  # a container without frames
    (videos_dir / 'clip_0004.mp4').write_bytes(b'')
    return videos_dir, ann


def test_checker_decodes_videos_and_reports_broken_ones(broken_videos) -> None:
    videos_dir, ann = broken_videos
    problems = check_annotation_file(
        str(ann), str(videos_dir), kind='video', num_classes=2)
    found = {p.line: p.message for p in problems}
    assert sorted(found) == [2, 3, 4, 5]
    assert 'clip_0001.mp4 cannot be decoded' in found[2]
    assert 'clip_0002.mp4 cannot be decoded' in found[3]
    assert ('clip_0003.mp4 has 0 frames' in found[4]
            or 'clip_0003.mp4 cannot be decoded' in found[4]
            or 'clip_0003.mp4 is empty' in found[4])
    assert 'clip_0004.mp4 is empty (0 bytes)' in found[5]
    result = subprocess.run([
        sys.executable, '-W', 'ignore', '-m',
        'img_mmaction.datasets.annotation_check',
        str(ann), '--data-prefix',
        str(videos_dir), '--kind', 'video'
    ],
                            capture_output=True,
                            text=True)
    assert result.returncode == 1
    assert f'{ann}:2: video' in result.stdout


def test_checker_decodes_the_first_and_last_frame_of_rawframes(tmp_path: Path
                                                               ) -> None:
    from img_mmaction.testing import make_rawframe_dataset
    frames_dir, ann = make_rawframe_dataset(
        tmp_path, num_videos=2, num_frames=6)
    (frames_dir / '2' / '00006.jpg').write_bytes(b'not a jpeg')
    (frames_dir / '2' / '00003.jpg').write_bytes(b'not checked: a middle one')
    problems = check_annotation_file(
        str(ann), str(frames_dir), kind='rawframe', num_classes=2)
    assert [(p.line, p.message.split(' does not')[0]) for p in problems
            ] == [(2, f'frame {frames_dir / "2" / "00006.jpg"}')]
