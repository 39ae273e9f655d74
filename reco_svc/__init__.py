"""Recommendation engine: offline models, split, metrics, evaluation and ONNX export."""
