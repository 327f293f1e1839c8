"""The infer function: inference tasks with ONNX Runtime."""
