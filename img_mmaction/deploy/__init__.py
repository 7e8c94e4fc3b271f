"""Deployment (``pip install 'img_mmaction[deploy]'``): a recognizer as an
ONNX graph (:mod:`.onnx`), and the causal frame step in ONNX Runtime for
online recognition (:mod:`.onnx_stream`, OURS)."""
