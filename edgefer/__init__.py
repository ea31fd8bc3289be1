"""edgefer: facial emotion recognition from FER2013 training to int8 ONNX on small CPUs."""

__version__ = "0.1.0"
