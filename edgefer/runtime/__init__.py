"""The on-device runtime: numpy, onnxruntime and OpenCV (OpenVINO, ncnn optional), never torch."""

from edgefer.runtime.backends import BACKENDS
from edgefer.runtime.classifier import EmotionClassifier, Prediction

__all__ = ["BACKENDS", "EmotionClassifier", "Prediction"]
