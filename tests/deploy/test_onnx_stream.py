"""OnnxStreamingRecognizer (OURS): the causal stream in ONNX Runtime."""
import copy
from pathlib import Path
from typing import Tuple, Union

import numpy as np
import onnx
import pytest
import torch

from img_mmaction.deploy.onnx_stream import (OnnxStreamingRecognizer,
                                             session_options)
from img_mmaction.models import StreamingRecognizer
from tests.models.test_streaming import CAUSAL_TINY, SIZE, build, raw_clips

TOL = dict(rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    'channels_last', [True, (True, True, False, False)],
    ids=['channels_last', 'per_stage'])
def test_every_frame_equals_the_torch_stream(channels_last: Union[bool,
                                                                  Tuple[bool,
                                                                        ...]]
                                             ) -> None:
    source = build(8, channels_last)
    expected_runner = StreamingRecognizer(source)
    runner = OnnxStreamingRecognizer(source, frame_size=(SIZE, SIZE))
    # The export leaves the runner's module tree in eval mode.
    assert not any(module.training for module in runner.model.modules())
    clips = raw_clips(3, 6)
    for t in range(6):
        expected = expected_runner.step(clips[:, t])
        scores = runner.step(clips[:, t])
        torch.testing.assert_close(runner.logits, expected_runner.logits,
                                   **TOL)
        torch.testing.assert_close(scores, expected, **TOL)
        assert runner.frames_seen.tolist() == [t + 1] * 3
    assert runner.state_nbytes() == expected_runner.state_nbytes()
    # After a reset, another number of streams.
    runner.reset()
    assert runner.num_streams is None and runner.state_nbytes() == 0
    alone = StreamingRecognizer(source)
    for t in range(3):
        single = runner.step(clips[1:2, t])
        torch.testing.assert_close(single, alone.step(clips[1:2, t]), **TOL)


def test_restarting_some_streams_equals_the_torch_stream() -> None:
    source = build(8)
    runners = (StreamingRecognizer(source),
               OnnxStreamingRecognizer(source, frame_size=(SIZE, SIZE)))
    clips, other = raw_clips(2, 5), raw_clips(1, 2)
    frames = [clips[:, t] for t in range(3)]
    frames += [torch.cat([other[:, t], clips[1:, t]]) for t in range(2)]
    results = ([], [])
    for t, batch in enumerate(frames):
        if t == 3:
            for runner in runners:
                runner.reset(streams=[0])
        for runner, scores in zip(runners, results):
            scores.append(runner.step(batch))
    for expected, scores in zip(*results):
        torch.testing.assert_close(scores, expected, **TOL)
    assert runners[1].frames_seen.tolist() == [2, 5]


def test_frames_of_another_size_are_refused_naming_both() -> None:
    runner = OnnxStreamingRecognizer(build(8), frame_size=(SIZE, SIZE))
    with pytest.raises(ValueError, match=r'40x40.*32x32'):
        runner.step(torch.zeros(1, 3, SIZE + 8, SIZE + 8))
    with pytest.raises(ValueError, match=r'\[B, 3, H, W\]'):
        runner.step(torch.zeros(1, 1, SIZE, SIZE))


def test_non_causal_models_are_refused_naming_the_module() -> None:
    cfg = copy.deepcopy(CAUSAL_TINY)
    cfg['backbone']['cmem_cfg'] = dict(causal=False)
    with pytest.raises(ValueError, match=r'backbone\.layer1\.0\.cmem'):
        OnnxStreamingRecognizer(build(8, cfg=cfg), frame_size=(SIZE, SIZE))


def test_the_saved_graph_names_its_state_and_runs_alone(tmp_path: Path
                                                        ) -> None:
    """The file is a plain ONNX model: frames, fresh and state in; pooled
    features and the next state out."""
    import onnxruntime
    path = tmp_path / 'step.onnx'
    source = build(8)
    runner = OnnxStreamingRecognizer(
        source, frame_size=(SIZE, SIZE), save_to=path)
    graph = onnx.load(str(path))
    onnx.checker.check_model(graph)
    inputs = [value.name for value in graph.graph.input]
    outputs = [value.name for value in graph.graph.output]
    assert inputs == ['frames', 'fresh'] + runner.state_names
    assert outputs == ['features'
                       ] + ['next/' + name for name in runner.state_names]
    cmem_state = [n for n in runner.state_names if '.cmem.' in n]
    assert cmem_state[:3] == [
        'backbone.layer1.0.cmem.y', 'backbone.layer1.0.cmem.mean',
        'backbone.layer1.0.cmem.norm'
    ]
    # One frame of one stream through the file alone: the torch runner's
    # pooled features.
    session = onnxruntime.InferenceSession(
        str(path), session_options(1), providers=['CPUExecutionProvider'])
    frame = raw_clips(1, 1)[:, 0]
    inputs = runner.model.data_preprocessor(
        dict(inputs=list(frame), data_samples=None))['inputs']
    feeds = dict(frames=inputs.numpy(), fresh=np.ones(1, dtype=bool))
    feeds.update(runner.zero_state(1))
    features = session.run(['features'], feeds)[0]
    expected_runner = StreamingRecognizer(source)
    expected_runner.step(frame)
    torch.testing.assert_close(
        torch.from_numpy(features), expected_runner._feature_sum, **TOL)


def test_stream_groups_run_the_same_streams_at_once() -> None:
    """stream_groups=2 splits B streams into two groups of consecutive
    streams run at the same time; every stream's scores are those of one
    group, after resets too, for B that two groups do not divide evenly."""
    source = build(8)
    grouped = OnnxStreamingRecognizer(
        source, frame_size=(SIZE, SIZE), threads=2, stream_groups=2)
    whole = OnnxStreamingRecognizer(source, frame_size=(SIZE, SIZE), threads=2)
    # Each group's run gets threads // stream_groups intra-op threads.
    assert grouped.session.get_session_options().intra_op_num_threads == 1
    assert whole.session.get_session_options().intra_op_num_threads == 2
    clips = raw_clips(3, 5)
    for t in range(5):
        if t == 3:
            for runner in (grouped, whole):
                runner.reset(streams=[1])
        torch.testing.assert_close(
            grouped.step(clips[:, t]), whole.step(clips[:, t]), **TOL)
        torch.testing.assert_close(grouped.features, whole.features, **TOL)
    assert grouped.frames_seen.tolist() == whole.frames_seen.tolist()
    assert grouped.state_nbytes() == whole.state_nbytes()
    # One stream: one group.
    grouped.reset()
    whole.reset()
    torch.testing.assert_close(
        grouped.step(clips[:1, 0]), whole.step(clips[:1, 0]), **TOL)


@pytest.mark.parametrize('groups', [0, -1, 1.5])
def test_stream_groups_must_be_a_positive_integer(groups: object) -> None:
    with pytest.raises(ValueError, match=r'stream_groups must be a positive'):
        OnnxStreamingRecognizer(
            build(8), frame_size=(SIZE, SIZE), stream_groups=groups)


def test_a_package_runs_stream_groups_with_the_same_scores(tmp_path: Path
                                                           ) -> None:
    from img_mmaction.deploy.packaged_stream import PackagedStreamRunner
    path = OnnxStreamingRecognizer(
        build(8), frame_size=(SIZE, SIZE)).save_package(tmp_path / 'p.onnx')
    grouped = PackagedStreamRunner(path, threads=2, stream_groups=2)
    whole = PackagedStreamRunner(path, threads=2)
    assert grouped.session.get_session_options().intra_op_num_threads == 1
    clips = raw_clips(3, 4).numpy()
    for t in range(4):
        if t == 2:
            grouped.reset(streams=[0])
            whole.reset(streams=[0])
        np.testing.assert_allclose(
            grouped.step(clips[:, t]), whole.step(clips[:, t]), **TOL)
    assert grouped.frames_seen.tolist() == whole.frames_seen.tolist()
    with pytest.raises(ValueError, match=r'stream_groups must be a positive'):
        PackagedStreamRunner(path, stream_groups=0)


def test_a_restarted_stream_forgets_what_its_row_held_even_nan() -> None:
    """While a camera is away its row may get any frame (docs/online.md),
    even one of NaN (``np.empty``); after ``reset(streams=[k])`` the row's
    scores are those of a fresh stream, in PyTorch and in ONNX Runtime:
    every cached frame of a fresh stream is masked, not multiplied by 0."""
    source = build(8)
    clips = raw_clips(2, 4)
    away = clips[:, :2].clone()
    away[1] = float('nan')  # camera 1 away: its row gets NaN frames
    pairs = [(StreamingRecognizer(source), StreamingRecognizer(source))] + [
        tuple(
            OnnxStreamingRecognizer(source, frame_size=(SIZE, SIZE))
            for _ in range(2))
    ]
    for runner, fresh in pairs:
        for t in range(2):
            runner.step(away[:, t])
        runner.reset(streams=[1])
        for t in range(2, 4):
            scores = runner.step(clips[:, t])
            expected = fresh.step(clips[1:, t])
            assert torch.isfinite(scores).all(), type(runner).__name__
            torch.testing.assert_close(scores[1:], expected, **TOL)


def test_sessions_never_spin_by_default() -> None:
    """The intra-op workers sleep between the parallel parts of a run:
    spinning while a run lasts (``session.force_spinning_stop``) made the
    runners' two-thread frame slower (docs/notes/online-runs.md#spinning).
    """
    from img_mmaction.deploy.packaged_stream import package_session_options
    for options in (session_options(2), package_session_options(2)):
        entry = options.get_session_config_entry
        assert entry('session.intra_op.allow_spinning') == '0'


def test_a_package_spins_while_a_run_lasts_only_when_asked(tmp_path: Path
                                                           ) -> None:
    """PackagedStreamRunner(spin=True): the workers spin between the
    parallel parts of a run and stop when it ends (OURS, opt-in); the same
    scores, bit for bit."""
    from img_mmaction.deploy.packaged_stream import PackagedStreamRunner
    path = OnnxStreamingRecognizer(
        build(8), frame_size=(SIZE, SIZE)).save_package(tmp_path / 'p.onnx')
    spinning = PackagedStreamRunner(path, threads=2, spin=True)
    sleeping = PackagedStreamRunner(path, threads=2)
    entry = spinning.session.get_session_options().get_session_config_entry
    assert entry('session.intra_op.allow_spinning') == '1'
    assert entry('session.force_spinning_stop') == '1'
    entry = sleeping.session.get_session_options().get_session_config_entry
    assert entry('session.intra_op.allow_spinning') == '0'
    clips = raw_clips(2, 3).numpy()
    for t in range(3):
        np.testing.assert_array_equal(
            spinning.step(clips[:, t]), sleeping.step(clips[:, t]))
