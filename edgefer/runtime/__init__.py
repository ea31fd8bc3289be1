"""The on-device runtime: numpy, onnxruntime and OpenCV (OpenVINO, ncnn optional), never torch."""

from edgefer.runtime.classifier import EmotionClassifier, Prediction
from edgefer.runtime.formats import BACKENDS

__all__ = ["BACKENDS", "EmotionClassifier", "Prediction"]
