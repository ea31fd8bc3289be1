"""The on-device runtime: numpy, onnxruntime and OpenCV only (never torch)."""

from edgefer.runtime.classifier import BACKENDS, EmotionClassifier, Prediction

__all__ = ["BACKENDS", "EmotionClassifier", "Prediction"]
