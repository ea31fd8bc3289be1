"""FER2013 data layer: one in-memory `FaceSet` read from the csv, image-folder or npz form."""

from edgefer.data.faceset import EMOTIONS, SPLITS, FaceSet
from edgefer.data.locate import resolve_data
from edgefer.data.readers import load_faces

__all__ = ["EMOTIONS", "SPLITS", "FaceSet", "load_faces", "resolve_data"]
