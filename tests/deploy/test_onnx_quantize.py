"""The int8 frame step (OURS): quantized by ONNX Runtime, checked, saved.

Tolerance of int8 against its OWN fp32 graph (the same export, unquantized):
activations are uint8 with one scale per tensor, so each quantized tensor is
rounded to half a step of 1/255 of its calibrated range (0.2 %), and a frame
passes through about 20 of them in a row (4 stages of CLIM and CMEM
convolutions; the stem stays float), the errors adding up partly. Measured
on this perturbed model calibrated on 4 clips of 8 frames, over 3 x 3
evaluation streams of 6 frames (smooth random images moving by a pixel or
two per frame): pooled features within 1.24 % of their largest magnitude,
cosine >= 0.99994 per stream, logits within 0.053 (of up to 2.6), scores
within 0.0083. The test allows 3 %, 0.9998, 0.12 and 0.015. Another
stream's fp32 outputs are at least 4.8 %, cosine <= 0.99951, 0.197 and
0.019 away at every frame, so a wrong answer breaks each bound: the test
checks that too.
"""
import copy
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import numpy as np
import onnx
import pytest
import torch
from mmengine.logging import MMLogger

from img_mmaction.deploy.onnx_quantize import (MIN_CALIBRATION_CLIPS,
                                               MIN_CALIBRATION_FRAMES,
                                               QuantScheme, calibration_feeds)
from img_mmaction.deploy.onnx_stream import (OnnxStreamingRecognizer,
                                             session_options)
from img_mmaction.deploy.packaged_stream import (DISABLED_OPTIMIZERS,
                                                 PackagedStreamRunner,
                                                 cpu_session)
from img_mmaction.deploy.stream_package import (stream_state_shapes,
                                                weights_fingerprint)
from tests.models.test_streaming import CAUSAL_TINY, SIZE, build

FEATURE_REL_TOL = 0.03
COSINE_MIN = 0.9998
LOGIT_ATOL = 0.12
SCORE_ATOL = 0.015


def _clips(seed: int, streams: int, frames: int) -> torch.Tensor:
    """Seeded raw clips [B, T, 3, SIZE, SIZE] (values 0-255): a smooth
    random image per stream moving 2 pixels down and 1 right per frame,
    with some pixel noise (pure noise frames pool to nearly the same
    features in every stream)."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(streams, 3, 6, 6, generator=generator) * 255
    side = SIZE + 2 * frames
    # [B, 3, 6, 6] -> [B, 3, side, side]
    canvas = torch.nn.functional.interpolate(
        coarse, size=(side, side), mode='bilinear', align_corners=False)
    clips = torch.stack(
        [canvas[..., 2 * t:2 * t + SIZE, t:t + SIZE] for t in range(frames)],
        1)
    noise = torch.rand(clips.shape, generator=generator) * 32
    return (clips + noise).clamp(0, 255)


@pytest.fixture(scope='module')
def source() -> torch.nn.Module:
    torch.manual_seed(0)
    return build(8)


@pytest.fixture(scope='module')
def calibration() -> List[torch.Tensor]:
    """Four clips of 8 consecutive frames: the minimum, 32 frames of 4
    videos."""
    return list(_clips(1, 4, 8))


@pytest.fixture(scope='module')
def int8_graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the int8 runner writes the graph it runs (``save_to``)."""
    return tmp_path_factory.mktemp('int8') / 'step.onnx'


@pytest.fixture(scope='module')
def runners(source: torch.nn.Module, calibration: List[torch.Tensor],
            int8_graph: Path) -> Dict[str, OnnxStreamingRecognizer]:
    """The fp32 runner and the int8 one of the same model, two threads."""
    return dict(
        fp32=OnnxStreamingRecognizer(source, (SIZE, SIZE), threads=2),
        int8=OnnxStreamingRecognizer(
            source, (SIZE, SIZE),
            threads=2,
            save_to=int8_graph,
            precision='int8',
            calibration=calibration))


def _assert_close_to_fp32(int8: OnnxStreamingRecognizer,
                          fp32: OnnxStreamingRecognizer, scores: torch.Tensor,
                          expected: torch.Tensor) -> None:
    """The int8 step's pooled features and scores within the tolerance."""
    features, reference = int8.features, fp32.features
    assert features.shape == reference.shape
    scale = reference.abs().max()
    assert (features - reference).abs().max() <= FEATURE_REL_TOL * scale
    cosine = torch.nn.functional.cosine_similarity(features, reference)
    assert cosine.min() >= COSINE_MIN
    torch.testing.assert_close(
        int8.logits, fp32.logits, rtol=0, atol=LOGIT_ATOL)
    torch.testing.assert_close(scores, expected, rtol=0, atol=SCORE_ATOL)


def test_int8_follows_its_own_fp32_graph_after_every_frame(
        runners: Dict[str, OnnxStreamingRecognizer], int8_graph: Path) -> None:
    int8, fp32 = runners['int8'], runners['fp32']
    assert int8.precision == 'int8' and fp32.precision == 'fp32'
    # Quantized for real: integer ops in the graph, outputs not the fp32's.
    graph = onnx.load(str(int8_graph))
    types = {node.op_type for node in graph.graph.node}
    assert {'QuantizeLinear', 'DequantizeLinear'} <= types
    assert [i.name for i in graph.graph.input
            ] == ['frames', 'fresh'] + int8.state_names
    int8.reset(), fp32.reset()
    clips = _clips(2, 3, 6)
    for t in range(6):
        expected = fp32.step(clips[:, t])
        scores = int8.step(clips[:, t])
        _assert_close_to_fp32(int8, fp32, scores, expected)
        assert int8.frames_seen.tolist() == [t + 1] * 3
        if t == 0:
            assert not torch.equal(int8.features, fp32.features)
    # The bounds are not vacuous: another stream's outputs break them.
    other_stream = fp32.features.roll(1, 0)
    assert (int8.features - other_stream).abs().max() > (
        FEATURE_REL_TOL * fp32.features.abs().max())
    assert torch.nn.functional.cosine_similarity(
        int8.features, other_stream).max() < COSINE_MIN
    assert (int8.logits - fp32.logits.roll(1, 0)).abs().max() > LOGIT_ATOL
    assert (scores - expected.roll(1, 0)).abs().max() > SCORE_ATOL
    # One stream restarted while the others go on, then another number
    # of streams after a full reset.
    other = _clips(3, 1, 3)
    for runner in (int8, fp32):
        runner.reset(streams=[1])
    for t in range(3):
        batch = torch.cat([clips[:1, t], other[:, t], clips[2:, t]])
        _assert_close_to_fp32(int8, fp32, int8.step(batch), fp32.step(batch))
    assert int8.frames_seen.tolist() == [9, 3, 9]
    for runner in (int8, fp32):
        runner.reset()
    for t in range(2):
        _assert_close_to_fp32(int8, fp32, int8.step(other[:, t]),
                              fp32.step(other[:, t]))


def test_quantized_relus_fold_into_the_convolutions_output_range(
        source: torch.nn.Module, calibration: List[torch.Tensor],
        runners: Dict[str, OnnxStreamingRecognizer], int8_graph: Path,
        tmp_path: Path) -> None:
    """``op_types=('Conv', 'Relu')`` (the lab's ``conv-relu`` scheme):
    ONNX Runtime's quantizer drops each ReLU that reads an int8
    convolution, whose output range then starts at 0 (uint8 zero point 0
    is the ReLU); the graph stays as close to fp32 as the default one."""
    graph = tmp_path / 'relu.onnx'
    int8 = OnnxStreamingRecognizer(
        source, (SIZE, SIZE),
        threads=2,
        save_to=graph,
        precision='int8',
        calibration=calibration,
        scheme=QuantScheme(op_types=('Conv', 'Relu')))
    fp32 = runners['fp32']

    def relus(model: onnx.ModelProto) -> int:
        return sum(node.op_type == 'Relu' for node in model.graph.node)

    assert relus(onnx.load(str(graph))) < relus(onnx.load(str(int8_graph)))
    fp32.reset()
    clips = _clips(2, 3, 4)
    for t in range(4):
        expected = fp32.step(clips[:, t])
        _assert_close_to_fp32(int8, fp32, int8.step(clips[:, t]), expected)


def test_calibration_feeds_are_consecutive_frames_with_the_fp32_state(
        runners: Dict[str, OnnxStreamingRecognizer],
        calibration: List[torch.Tensor]) -> None:
    """Frame t of a clip is fed with the state the fp32 graph gave after
    frame t-1 (not zeros); each clip starts fresh."""
    fp32 = runners['fp32']
    inputs = [
        fp32.model.data_preprocessor(
            dict(inputs=list(clip), data_samples=None))['inputs']
        for clip in calibration
    ]
    feeds = calibration_feeds(fp32.session, [i.numpy() for i in inputs],
                              fp32.zero_state)
    assert len(feeds) == 32
    fp32.reset()
    for t in range(8):
        feed = feeds[8 + t]  # the second clip
        assert feed['fresh'].tolist() == [t == 0]
        np.testing.assert_array_equal(feed['frames'], inputs[1][t:t + 1])
        state = fp32.zero_state(1) if t == 0 else fp32._state
        for name in fp32.state_names:
            np.testing.assert_array_equal(feed[name], state[name])
        if t > 0:
            assert np.abs(feed['backbone.layer1.0.cmem.y']).max() > 0
        fp32.step(calibration[1][t:t + 1])


def test_the_build_time_check_is_logged_and_kept(
        source: torch.nn.Module, calibration: List[torch.Tensor]) -> None:
    records: List[str] = []

    class Keep(logging.Handler):

        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = MMLogger.get_current_instance()
    handler = Keep()
    logger.addHandler(handler)
    try:
        runner = OnnxStreamingRecognizer(
            source, (SIZE, SIZE),
            precision='int8',
            calibration=calibration,
            scheme=QuantScheme(per_channel=False))
    finally:
        logger.removeHandler(handler)
    summary = runner.calibration
    assert summary['frames'] == 32 and summary['clips'] == 4
    assert summary['scheme']['per_channel'] is False
    check = summary['check']
    assert 0 < check['max_abs_diff'] <= FEATURE_REL_TOL * check['max_abs_fp32']
    assert COSINE_MIN <= check['min_cosine'] <= 1
    logged = [r for r in records if 'int8 frame step' in r]
    assert len(logged) == 1
    assert f'{check["max_abs_diff"]:.3g}' in logged[0]
    assert '32 calibration frames' in logged[0]


def test_saved_package_runs_alone_with_the_same_outputs(
        runners: Dict[str, OnnxStreamingRecognizer], source: torch.nn.Module,
        tmp_path: Path) -> None:
    """The package is one ONNX file: the loader needs neither the model nor
    the recipe. Same graph, same ONNX Runtime: the pooled features are
    bit-identical; the classifier runs in the graph instead of PyTorch,
    so scores agree to float32 rounding."""
    for precision, runner in runners.items():
        path = tmp_path / f'{precision}.onnx'
        runner.save_package(path)
        onnx.checker.check_model(onnx.load(str(path)))
        loaded = PackagedStreamRunner(path, threads=2)
        assert loaded.precision == precision
        assert loaded.frame_size == (SIZE, SIZE)
        assert loaded.state_shapes == runner.state_shapes
        assert loaded.fingerprint == weights_fingerprint(source)
        runner.reset()
        clips = _clips(4, 2, 4)
        for t in range(4):
            if t == 2:
                runner.reset(streams=[0])
                loaded.reset(streams=[0])
            expected = runner.step(clips[:, t])
            scores = loaded.step(clips[:, t].numpy())
            np.testing.assert_array_equal(loaded.features,
                                          runner.features.numpy())
            np.testing.assert_allclose(
                loaded.logits, runner.logits.numpy(), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(
                scores, expected.numpy(), rtol=1e-5, atol=1e-6)
        assert loaded.frames_seen.tolist() == [2, 4]
        assert loaded.state_nbytes() > 0
    # Loaded twice: identical scores.
    again = PackagedStreamRunner(tmp_path / 'int8.onnx', threads=2)
    first = PackagedStreamRunner(tmp_path / 'int8.onnx', threads=2)
    frame = _clips(5, 1, 1)[:, 0].numpy()
    np.testing.assert_array_equal(again.step(frame), first.step(frame))


def test_package_metadata_says_what_a_runner_needs(runners: Dict[
    str, OnnxStreamingRecognizer], source: torch.nn.Module,
                                                   tmp_path: Path) -> None:
    path = tmp_path / 'int8.onnx'
    runners['int8'].save_package(path)
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert meta['img_mmaction.format'] == 'stream/1'
    assert meta['img_mmaction.precision'] == 'int8'
    assert json.loads(meta['img_mmaction.frame_size']) == [SIZE, SIZE]
    state = json.loads(meta['img_mmaction.state'])
    assert [name for name, _ in state] == runners['int8'].state_names
    preprocess = json.loads(meta['img_mmaction.preprocess'])
    mean = source.data_preprocessor.mean.flatten().tolist()
    assert preprocess['mean'] == mean and len(preprocess['std']) == 3
    assert meta['img_mmaction.fingerprint'] == weights_fingerprint(source)
    calibration = json.loads(meta['img_mmaction.calibration'])
    assert calibration['frames'] == 32
    head = json.loads(meta['img_mmaction.head'])
    assert head == dict(num_classes=8, average_clips='prob')


def test_the_loader_imports_neither_torch_nor_the_plugin(
        runners: Dict[str, OnnxStreamingRecognizer], tmp_path: Path) -> None:
    """A deployment needs onnxruntime and numpy only: the loader module
    runs with torch, mmengine, mmaction and img_mmaction unimportable."""
    path = tmp_path / 'int8.onnx'
    runners['int8'].save_package(path)
    frame = tmp_path / 'frame.npy'
    np.save(frame, _clips(6, 1, 1)[:, 0].numpy())
    module = Path(__file__).resolve().parents[2] / (
        'img_mmaction/deploy/packaged_stream.py')
    script = (
        'import sys, importlib.util, numpy as np\n'
        'for name in ("torch", "mmengine", "mmaction", "img_mmaction"):\n'
        '    sys.modules[name] = None\n'
        f'spec = importlib.util.spec_from_file_location("ps", "{module}")\n'
        'ps = importlib.util.module_from_spec(spec)\n'
        'spec.loader.exec_module(ps)\n'
        f'runner = ps.PackagedStreamRunner("{path}", threads=1)\n'
        f'scores = runner.step(np.load("{frame}"))\n'
        'print(scores.shape, round(float(scores.sum()), 4))\n')
    result = subprocess.run([sys.executable, '-c', script],
                            capture_output=True,
                            text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == '(1, 8) 1.0'


def test_too_few_or_wrong_calibration_frames_are_refused(
        source: torch.nn.Module) -> None:
    few = list(_clips(1, 2, 4))
    with pytest.raises(
            ValueError,
            match=rf'8 frames in 2 clips.*{MIN_CALIBRATION_FRAMES}'
            rf' frames from at least {MIN_CALIBRATION_CLIPS}'):
        OnnxStreamingRecognizer(
            source, (SIZE, SIZE), precision='int8', calibration=few)
    # Enough frames, too few videos.
    with pytest.raises(ValueError, match=r'40 frames in 2 clips'):
        OnnxStreamingRecognizer(
            source, (SIZE, SIZE),
            precision='int8',
            calibration=list(_clips(1, 2, 20)))
    wrong = list(_clips(1, 4, 8))
    wrong[2] = torch.zeros(6, 3, SIZE + 8, SIZE + 8)
    with pytest.raises(ValueError, match=r'clip 2.*40x40.*32x32'):
        OnnxStreamingRecognizer(
            source, (SIZE, SIZE), precision='int8', calibration=wrong)
    with pytest.raises(ValueError, match=r'clip 0.*\[T, 3, H, W\]'):
        OnnxStreamingRecognizer(
            source, (SIZE, SIZE),
            precision='int8',
            calibration=[torch.zeros(18, SIZE, SIZE)])
    with pytest.raises(ValueError, match='precision=.int8. needs calibration'):
        OnnxStreamingRecognizer(source, (SIZE, SIZE), precision='int8')
    with pytest.raises(ValueError, match=r"precision.*fp32.*int8.*'fp16'"):
        OnnxStreamingRecognizer(source, (SIZE, SIZE), precision='fp16')


def test_a_package_for_other_weights_sizes_or_state_is_refused(
        runners: Dict[str, OnnxStreamingRecognizer], source: torch.nn.Module,
        tmp_path: Path) -> None:
    path = tmp_path / 'int8.onnx'
    runners['int8'].save_package(path)
    # The runner's module tree (shared weights) has the model's print.
    own = weights_fingerprint(runners['int8'].model)
    assert own == weights_fingerprint(source)
    torch.manual_seed(9)
    other = build(8)
    theirs = weights_fingerprint(other)
    assert theirs != own
    with pytest.raises(
            ValueError, match=rf'{path.name}.*{own[:12]}.*{theirs[:12]}'):
        PackagedStreamRunner(path, fingerprint=theirs)
    with pytest.raises(ValueError, match=rf'{path.name}.*32x32.*40x40'):
        PackagedStreamRunner(path, frame_size=(40, 40))
    # The state layout of the same model at another frame size, and of
    # another architecture (CMEM without the adaptive shift).
    at_40 = stream_state_shapes(other, (40, 40))
    with pytest.raises(ValueError, match=r'state.*cmem\.y.*\(6, 100\)'):
        PackagedStreamRunner(path, state_shapes=at_40)
    cfg = copy.deepcopy(CAUSAL_TINY)
    cfg['backbone']['temporal_cfg'] = None
    no_shift = stream_state_shapes(build(8, cfg=cfg), (SIZE, SIZE))
    with pytest.raises(ValueError, match=r'state.*temporal\.0\.x'):
        PackagedStreamRunner(path, state_shapes=no_shift)
    loaded = PackagedStreamRunner(
        path,
        frame_size=(SIZE, SIZE),
        fingerprint=own,
        state_shapes=stream_state_shapes(source, (SIZE, SIZE)))
    with pytest.raises(ValueError, match=r'40x40.*32x32'):
        loaded.step(np.zeros((1, 3, 40, 40), dtype=np.float32))
    # A file whose metadata no longer matches its graph.
    model = onnx.load(str(path))
    for prop in model.metadata_props:
        if prop.key == 'img_mmaction.state':
            state = json.loads(prop.value)
            state[0][1] = [7, 64]
            prop.value = json.dumps(state)
    tampered = tmp_path / 'tampered.onnx'
    onnx.save(model, str(tampered))
    with pytest.raises(
            ValueError, match=r'tampered\.onnx.*cmem\.y.*\[7, 64\]'):
        PackagedStreamRunner(tampered)
    # The plain frame step (save_to) is not a package.
    plain = tmp_path / 'plain.onnx'
    OnnxStreamingRecognizer(source, (SIZE, SIZE), save_to=plain)
    with pytest.raises(ValueError, match=r'plain\.onnx.*img_mmaction\.format'):
        PackagedStreamRunner(plain)


def _stem_pool_input(graph: bytes, tmp_path: Path, default: bool) -> str:
    """The op type that feeds the stem's MaxPool once ONNX Runtime has
    optimised ``graph``: with its default optimisers (``default``) or as
    the stream runners open it (:func:`cpu_session`)."""
    import onnxruntime
    options = session_options(2)
    options.optimized_model_filepath = str(tmp_path / f'{default}.onnx')
    if default:
        onnxruntime.InferenceSession(
            graph, options, providers=['CPUExecutionProvider'])
    else:
        cpu_session(graph, options)
    optimised = onnx.load(options.optimized_model_filepath).graph
    producers = {out: node for node in optimised.node for out in node.output}
    pools = [node for node in optimised.node if 'MaxPool' in node.op_type]
    assert len(pools) == 1
    return producers[pools[0].input[0]].op_type


def test_int8_sessions_keep_quantize_nodes_where_the_graph_has_them(
        runners: Dict[str, OnnxStreamingRecognizer], int8_graph: Path,
        tmp_path: Path) -> None:
    """ONNX Runtime's QDQPropagationTransformer moves the QuantizeLinear
    after the stem's MaxPool up before it, so the pool runs on uint8 in
    NCHW (its slow kernel) instead of float in the blocked layout; the
    stream sessions leave that optimiser out (DISABLED_OPTIMIZERS), which
    gives the same outputs (docs/notes/int8.md)."""
    graph = int8_graph.read_bytes()
    assert DISABLED_OPTIMIZERS == ('QDQPropagationTransformer', )
    # Needed: by default the pool reads the quantized stem output.
    assert _stem_pool_input(graph, tmp_path, default=True) == 'QuantizeLinear'
    ours = _stem_pool_input(graph, tmp_path, default=False)
    assert ours != 'QuantizeLinear'
    # The same outputs either way, on a frame with its state.
    import onnxruntime
    session = cpu_session(graph, session_options(1))
    default = onnxruntime.InferenceSession(
        graph, session_options(1), providers=['CPUExecutionProvider'])
    generator = np.random.default_rng(0)
    feeds = {
        value.name: (np.ones(1, dtype=bool) if value.name == 'fresh' else
                     generator.random([1] + value.shape[1:], np.float32))
        for value in session.get_inputs()
    }
    feeds['frames'] *= 255
    for found, expected in zip(
            session.run(None, feeds), default.run(None, feeds)):
        np.testing.assert_array_equal(found, expected)


def test_every_stream_session_leaves_the_optimiser_out(
        runners: Dict[str, OnnxStreamingRecognizer], tmp_path: Path) -> None:
    """The runner (both precisions) and the package runner open their
    sessions through cpu_session."""
    import onnxruntime
    opened = []
    original = onnxruntime.InferenceSession

    class Recording(original):

        def __init__(self, *args, **kwargs) -> None:
            opened.append(kwargs.get('disabled_optimizers'))
            super().__init__(*args, **kwargs)

    path = runners['int8'].save_package(tmp_path / 'int8.onnx')
    onnxruntime.InferenceSession = Recording
    try:
        runners['int8'].with_threads(1)
        runners['fp32'].with_threads(1)
        PackagedStreamRunner(path, threads=1)
    finally:
        onnxruntime.InferenceSession = original
    assert opened == [list(DISABLED_OPTIMIZERS)] * 3


def test_with_threads_runs_the_same_graph_on_a_new_session(
        runners: Dict[str, OnnxStreamingRecognizer]) -> None:
    """with_threads: the same frame step (int8 not quantized again) on a
    session with other threads or stream groups; the original runner and
    its stream are untouched."""
    int8 = runners['int8']
    int8.reset()
    clips = _clips(4, 4, 3)
    int8.step(clips[:, 0])
    one = int8.with_threads(1)
    grouped = int8.with_threads(2, stream_groups=2)
    assert one.session is not int8.session
    assert one.session.get_session_options().intra_op_num_threads == 1
    assert grouped.session.get_session_options().intra_op_num_threads == 1
    assert int8.session.get_session_options().intra_op_num_threads == 2
    assert (one.groups.groups, grouped.groups.groups) == (1, 2)
    assert one.calibration is int8.calibration
    assert one.num_streams is None  # no stream started
    assert int8.frames_seen.tolist() == [1] * 4
    int8.reset()
    for t in range(3):
        expected = int8.step(clips[:, t])
        torch.testing.assert_close(one.step(clips[:, t]), expected)
        torch.testing.assert_close(grouped.step(clips[:, t]), expected)
    with pytest.raises(ValueError, match=r'stream_groups must be a positive'):
        int8.with_threads(2, stream_groups=0)
