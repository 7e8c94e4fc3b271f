"""A folder of class subfolders becomes lists, a label map and a recipe.

Real mp4s (the synthetic generator), real decord; every refusal names the
folder or file and the numbers.
"""
import runpy
import sys
from pathlib import Path
from typing import Dict, List

import pytest
from mmengine.config import Config

from img_mmaction.datasets import check_annotation_file
from img_mmaction.datasets.video_folder import (VIDEO_SUFFIXES,
                                                VideoFolderError,
                                                build_video_folder, main,
                                                num_val_videos,
                                                scan_video_folder,
                                                stratified_split)
from img_mmaction.synthetic.class_folders import (class_folder_names,
                                                  make_class_folders)
from ..models.reference_res2net import Res2Net

REPO = Path(__file__).resolve().parents[2]


def _videos(root: Path, counts: Dict[str, int]) -> Path:
    """Class folders of ``counts[name]`` small real mp4s each."""
    make_class_folders(
        root,
        num_classes=len(counts),
        videos_per_class=list(counts.values()),
        names=list(counts),
        num_frames=4,
        size=32)
    return root


def _lines(path: Path) -> List[List[str]]:
    return [line.split() for line in path.read_text().splitlines()]


# ---------------------------------------------------------------- the split


@pytest.mark.parametrize('count,fraction,expected',
                         [(2, 0.2, 1), (5, 0.2, 1), (10, 0.2, 2),
                          (10, 0.25, 3), (3, 0.9, 2), (100, 0.01, 1)])
def test_val_count_rounds_half_up_and_keeps_one_in_each_split(
        count: int, fraction: float, expected: int) -> None:
    assert num_val_videos(count, fraction) == expected


def test_split_is_stratified_disjoint_complete_and_seeded() -> None:
    # Not in sorted order: labels follow the sorted names, not the dict.
    videos = {
        f'class{c}': [f'v{i:02d}.mp4' for i in range(n)]
        for c, n in zip([3, 0, 4, 1, 2], [2, 3, 5, 10, 17])
    }
    train, val = stratified_split(videos, 0.2, seed=0)
    names = ['class0', 'class1', 'class2', 'class3', 'class4']
    for label, name in enumerate(names):
        files = videos[name]
        in_train = [p for p, lab in train if lab == label]
        in_val = [p for p, lab in val if lab == label]
        assert in_train and in_val, name
        assert len(in_val) == num_val_videos(len(files), 0.2)
        assert not set(in_train) & set(in_val)
        assert sorted(in_train + in_val) == [f'{name}/{f}' for f in files]
    assert stratified_split(videos, 0.2, seed=0) == (train, val)
    other = stratified_split(videos, 0.2, seed=1)
    assert other != (train, val)
    # Each class's draw depends on the seed and the class alone: adding a
    # class does not move the others' videos.
    more = dict(videos, zzz=['a.mp4', 'b.mp4'])
    train_more, val_more = stratified_split(more, 0.2, seed=0)
    assert [p for p, _ in val_more if not p.startswith('zzz/')] == \
        [p for p, _ in val]
    # ... and on the class's name: same files, another draw.
    ten = [f'v{i:02d}.mp4' for i in range(10)]
    _, val_twins = stratified_split({'x': ten, 'y': ten}, 0.2, seed=0)
    assert len(val_twins) == 4
    assert {p[2:] for p, lab in val_twins if lab == 0} != \
        {p[2:] for p, lab in val_twins if lab == 1}


def test_split_refuses_a_bad_fraction() -> None:
    for fraction in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(VideoFolderError, match='--val-fraction'):
            stratified_split({'a': ['1.mp4', '2.mp4']}, fraction, 0)


# ------------------------------------------------------- what is written


def test_build_writes_lists_label_map_and_tiny_recipe(tmp_path: Path) -> None:
    root = _videos(tmp_path / 'clips', {'b_wave': 5, 'a_clap': 4, 'c_run': 3})
    out = tmp_path / 'out'
    result = build_video_folder(root, out, val_fraction=0.2, seed=0)
    # Labels: sorted folder names.
    assert (out / 'label_map.txt').read_text().splitlines() == [
        'a_clap', 'b_wave', 'c_run'
    ]
    assert result.classes == ['a_clap', 'b_wave', 'c_run']
    train, val = _lines(out / 'train.txt'), _lines(out / 'val.txt')
    assert all(len(fields) == 2 for fields in train + val)
    for path, label in train + val:
        assert path.split('/')[0] == result.classes[int(label)]
        assert (root / path).is_file()
    assert sorted(len([f for f in val if f[1] == str(c)])
                  for c in range(3)) == [1, 1, 1]
    assert len(train) == 12 - 3
    for ann in (out / 'train.txt', out / 'val.txt'):
        assert check_annotation_file(str(ann), str(root), 'video', 3) == []
    # The same call writes the same files.
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    build_video_folder(root, out, val_fraction=0.2, seed=0)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before

    recipe = out / 'img_res2net-tiny_clips.py'
    assert result.recipe == recipe
    cfg = Config.fromfile(str(recipe))
    assert cfg.model.backbone.type == 'Res2NetIMG'
    assert cfg.model.backbone.base_channels == 16  # the tiny one
    assert cfg.model.cls_head.num_classes == 3
    assert cfg.runner_type == 'RobustRunner'  # the plugin's base is in
    assert cfg.custom_imports.imports == ['img_mmaction']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[loader].dataset
        assert dataset.num_classes == 3
        assert dataset.data_prefix.video == str(root.resolve())
    assert cfg.train_dataloader.dataset.ann_file == str(
        (out / 'train.txt').resolve())
    assert cfg.val_dataloader.dataset.ann_file == str(
        (out / 'val.txt').resolve())
    assert cfg.test_dataloader.dataset.ann_file == str(
        (out / 'val.txt').resolve())
    from mmaction.registry import DATASETS
    for loader in ('train_dataloader', 'val_dataloader'):
        dataset = DATASETS.build(cfg[loader].dataset)
        assert len(dataset) == (9 if loader == 'train_dataloader' else 3)
        assert dataset[0]['inputs'].shape == (8, 3, 56, 56), loader


def test_hidden_files_are_ignored_and_suffixes_any_case(tmp_path: Path
                                                        ) -> None:
    root = _videos(tmp_path / 'clips', {'a': 2, 'b': 2})
    (root / '.DS_Store').write_text('x')
    (root / 'a' / '.thumbs').write_text('x')
    (root / '.cache').mkdir()
    (root / 'b' / 'clip_0000.mp4').rename(root / 'b' / 'CLIP.MP4')
    assert scan_video_folder(root) == {
        'a': ['clip_0000.mp4', 'clip_0001.mp4'],
        'b': ['CLIP.MP4', 'clip_0001.mp4']
    }
    assert '.mp4' in VIDEO_SUFFIXES and '.avi' in VIDEO_SUFFIXES


def test_res2net50_recipe_loads_the_imagenet_file_strictly(tmp_path: Path
                                                           ) -> None:
    import torch
    from mmaction.registry import DATASETS, MODELS
    from mmaction.structures import ActionDataSample
    torch.manual_seed(0)
    reference = Res2Net()  # the official file's layout and key names
    weights = tmp_path / 'res2net50_26w_4s.pth'
    torch.save(reference.state_dict(), weights)
    root = _videos(tmp_path / 'clips', {'a': 2, 'b': 2})
    result = build_video_folder(
        root, tmp_path / 'out', backbone='res2net50', pretrained=str(weights))
    assert result.recipe.name == 'img_res2net50_clips.py'
    cfg = Config.fromfile(str(result.recipe))
    assert cfg.model.backbone.depth == 50
    assert cfg.model.backbone.pretrained == str(weights.resolve())
    assert cfg.model.cls_head.num_classes == 2
    assert cfg.optim_wrapper.paramwise_cfg.fc_lr5  # a new classifier
    model = MODELS.build(cfg.model)
    model.init_weights()  # raises PretrainedMismatchError on any misfit
    torch.testing.assert_close(model.backbone.conv1.weight,
                               reference.conv1.weight)
    model.eval()
    clip = torch.randint(0, 255, (1, 8, 3, 64, 64), dtype=torch.uint8)
    with torch.no_grad():
        scores = model.test_step(
            dict(inputs=[clip[0]], data_samples=[ActionDataSample()]))
    assert scores[0].pred_score.shape == (2, )
    # The pipelines decode the real videos into 8 frames of 224 x 224.
    for loader in ('train_dataloader', 'val_dataloader'):
        dataset = DATASETS.build(cfg[loader].dataset)
        assert dataset[0]['inputs'].shape == (8, 3, 224, 224), loader


# ---------------------------------------------------------- the refusals


def test_missing_root_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(VideoFolderError, match=f'{tmp_path}/nothing'):
        build_video_folder(tmp_path / 'nothing', tmp_path / 'out')
    (tmp_path / 'a_file').write_text('x')
    with pytest.raises(VideoFolderError, match='is not a folder'):
        build_video_folder(tmp_path / 'a_file', tmp_path / 'out')


def test_root_without_class_folders_is_an_error(tmp_path: Path) -> None:
    (tmp_path / 'empty').mkdir()
    with pytest.raises(VideoFolderError, match='no class folders'):
        build_video_folder(tmp_path / 'empty', tmp_path / 'out')


def test_only_one_class_is_an_error(tmp_path: Path) -> None:
    root = _videos(tmp_path / 'clips', {'only': 3})
    with pytest.raises(VideoFolderError) as error:
        build_video_folder(root, tmp_path / 'out')
    assert 'only one class folder' in str(error.value)
    assert str(root / 'only') in str(error.value)


def test_empty_class_folder_is_an_error(tmp_path: Path) -> None:
    root = _videos(tmp_path / 'clips', {'a': 2, 'b': 2})
    (root / 'c').mkdir()
    (root / 'c' / '.hidden').write_text('x')
    with pytest.raises(VideoFolderError) as error:
        build_video_folder(root, tmp_path / 'out')
    assert f'class folder {root / "c"} holds no videos' in str(error.value)


def test_class_with_too_few_videos_for_both_splits_is_an_error(tmp_path: Path
                                                               ) -> None:
    root = _videos(tmp_path / 'clips', {'a': 3, 'b': 1})
    with pytest.raises(VideoFolderError) as error:
        build_video_folder(root, tmp_path / 'out')
    message = str(error.value)
    assert f'class folder {root / "b"} holds 1 video' in message
    assert 'at least 2' in message


def test_non_video_files_are_an_error_naming_the_suffixes(tmp_path: Path
                                                          ) -> None:
    root = _videos(tmp_path / 'clips', {'a': 2, 'b': 2})
    (root / 'a' / 'notes.txt').write_text('x')
    (root / 'b' / 'frame.jpg').write_text('x')
    with pytest.raises(VideoFolderError) as error:
        build_video_folder(root, tmp_path / 'out')
    message = str(error.value)
    assert str(root / 'a' / 'notes.txt') in message
    assert str(root / 'b' / 'frame.jpg') in message
    assert '.avi' in message and '.mp4' in message and '.webm' in message


def test_files_beside_the_class_folders_are_an_error(tmp_path: Path) -> None:
    root = _videos(tmp_path / 'clips', {'a': 2, 'b': 2})
    (root / 'stray.mp4').write_bytes(
        (root / 'a' / 'clip_0000.mp4').read_bytes())
    with pytest.raises(VideoFolderError) as error:
        build_video_folder(root, tmp_path / 'out')
    assert str(root / 'stray.mp4') in str(error.value)
    assert 'only class folders' in str(error.value)
    (root / 'a' / 'notes.txt').write_text('x')
    with pytest.raises(VideoFolderError) as error:
        build_video_folder(root, tmp_path / 'out')
    # Every problem at once.
    assert str(root / 'stray.mp4') in str(error.value)
    assert str(root / 'a' / 'notes.txt') in str(error.value)


def test_folders_inside_a_class_folder_are_an_error(tmp_path: Path) -> None:
    root = _videos(tmp_path / 'clips', {'a': 2, 'b': 2})
    (root / 'a' / 'more').mkdir()
    with pytest.raises(VideoFolderError) as error:
        build_video_folder(root, tmp_path / 'out')
    assert str(root / 'a' / 'more') in str(error.value)


def test_whitespace_in_names_is_an_error(tmp_path: Path) -> None:
    root = _videos(tmp_path / 'clips', {'a b': 2, 'c': 2})
    with pytest.raises(VideoFolderError) as error:
        build_video_folder(root, tmp_path / 'out')
    assert str(root / 'a b') in str(error.value)
    assert 'whitespace' in str(error.value)
    root = _videos(tmp_path / 'clips2', {'a': 2, 'c': 2})
    (root / 'c' / 'clip_0000.mp4').rename(root / 'c' / 'my clip.mp4')
    with pytest.raises(VideoFolderError, match='my clip.mp4'):
        build_video_folder(root, tmp_path / 'out')


def _break_two_videos(root: Path) -> List[Path]:
    truncated = root / 'a' / 'clip_0001.mp4'
    truncated.write_bytes(truncated.read_bytes()[:300])
    empty = root / 'b' / 'clip_0002.mp4'
    empty.write_bytes(b'')
    return [truncated, empty]


def test_unreadable_videos_are_an_error_naming_each(tmp_path: Path) -> None:
    root = _videos(tmp_path / 'clips', {'a': 3, 'b': 3})
    broken = _break_two_videos(root)
    with pytest.raises(VideoFolderError) as error:
        build_video_folder(root, tmp_path / 'out')
    message = str(error.value)
    assert '2 of 6 videos' in message
    for path in broken:
        assert str(path) in message
    assert '--skip-unreadable' in message
    assert not (tmp_path / 'out' / 'train.txt').exists()


def test_skip_unreadable_leaves_them_out_and_lists_them(tmp_path: Path
                                                        ) -> None:
    root = _videos(tmp_path / 'clips', {'a': 3, 'b': 3})
    broken = _break_two_videos(root)
    out = tmp_path / 'out'
    result = build_video_folder(root, out, skip_unreadable=True)
    assert result.skipped == [str(p.relative_to(root)) for p in broken]
    listed = (out / 'unreadable.txt').read_text()
    for path in broken:
        assert str(path.relative_to(root)) in listed
    written = [
        f[0] for f in _lines(out / 'train.txt') + _lines(out / 'val.txt')
    ]
    assert len(written) == 4
    assert not {str(p.relative_to(root)) for p in broken} & set(written)
    # A clean run afterwards removes the stale list.
    for path in broken:
        path.unlink()
    build_video_folder(root, out)
    assert not (out / 'unreadable.txt').exists()


def test_skipping_that_leaves_too_few_videos_is_an_error(tmp_path: Path
                                                         ) -> None:
    root = _videos(tmp_path / 'clips', {'a': 2, 'b': 2})
    (root / 'b' / 'clip_0000.mp4').write_bytes(b'')
    with pytest.raises(VideoFolderError) as error:
        build_video_folder(root, tmp_path / 'out', skip_unreadable=True)
    message = str(error.value)
    assert f'class folder {root / "b"} holds 1 video' in message
    assert '1 unreadable' in message


def test_out_inside_root_is_an_error(tmp_path: Path) -> None:
    root = _videos(tmp_path / 'clips', {'a': 2, 'b': 2})
    with pytest.raises(VideoFolderError, match='--out'):
        build_video_folder(root, root / 'lists')
    with pytest.raises(VideoFolderError, match='--out'):
        build_video_folder(root, root)


def test_backbone_arguments_are_checked(tmp_path: Path) -> None:
    root = _videos(tmp_path / 'clips', {'a': 2, 'b': 2})
    out = tmp_path / 'out'
    with pytest.raises(VideoFolderError, match='needs --pretrained'):
        build_video_folder(root, out, backbone='res2net50')
    with pytest.raises(VideoFolderError, match=f'{tmp_path}/missing.pth'):
        build_video_folder(
            root,
            out,
            backbone='res2net50',
            pretrained=str(tmp_path / 'missing.pth'))
    (tmp_path / 'w.pth').write_bytes(b'x')
    with pytest.raises(VideoFolderError, match='tiny IMG .* from scratch'):
        build_video_folder(root, out, pretrained=str(tmp_path / 'w.pth'))
    with pytest.raises(VideoFolderError, match="--backbone 'resnet'"):
        build_video_folder(root, out, backbone='resnet')


# ---------------------------------------------------------- command line


def test_command_line_writes_and_prints_the_next_commands(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = _videos(tmp_path / 'clips', {'a': 2, 'b': 3})
    out = tmp_path / 'out'
    assert main(
        [str(root), '--out',
         str(out), '--val-fraction', '0.3', '--seed', '5']) == 0
    printed = capsys.readouterr().out
    assert 'classes: 2 (a, b)' in printed
    assert 'train: 3 videos, val: 2 videos' in printed
    recipe = out / 'img_res2net-tiny_clips.py'
    assert f'mim train img_mmaction {recipe}' in printed
    assert 'epoch_12.pth' in printed
    train, val = stratified_split(scan_video_folder(root), 0.3, 5)
    assert (out / 'val.txt').read_text() == ''.join(f'{p} {label}\n'
                                                    for p, label in val)


def test_command_line_errors_exit_1_with_the_message(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main([str(tmp_path / 'nothing'), '--out', str(tmp_path)]) == 1
    assert f'{tmp_path}/nothing' in capsys.readouterr().err


def test_tools_script_runs_the_module(tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root = _videos(tmp_path / 'clips', {'a': 2, 'b': 2})
    monkeypatch.setattr(
        sys, 'argv',
        ['video_folder.py',
         str(root), '--out',
         str(tmp_path / 'out')])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(
            str(REPO / 'tools' / 'video_folder.py'), run_name='__main__')
    assert done.value.code == 0
    assert (tmp_path / 'out' / 'label_map.txt').is_file()


def test_generated_class_folders_are_real_distinct_videos(tmp_path: Path
                                                          ) -> None:
    names = make_class_folders(tmp_path, num_classes=4, videos_per_class=2)
    assert names == class_folder_names(4) == [
        'move_right', 'move_left', 'approach', 'recede'
    ]
    for name in names:
        files = sorted((tmp_path / name).iterdir())
        assert [f.name for f in files] == ['clip_0000.mp4', 'clip_0001.mp4']
        assert files[0].read_bytes() != files[1].read_bytes()
