"""What the infer function runs models with: the model cache (ONNX Runtime sessions), the
preprocessing a manifest asks for, and the decoders of the models' outputs."""
