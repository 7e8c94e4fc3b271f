"""Deployment: ONNX export of a recognizer."""
