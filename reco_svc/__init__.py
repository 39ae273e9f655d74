"""Recommendation engine: offline models, serving, age-safe ranking, ONNX inference."""
