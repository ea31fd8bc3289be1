"""Every default of `Recognizer` (and so of `edgefer detect`, which reads them here), defined
once, with the measurement that chose it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DetectDefaults:
    """The defaults of `Recognizer(...)` and `Recognizer.run(...)`."""

    backend: str = "auto"  # the model format's runtime
    threads: int | None = None  # all cores
    # smallest face side to find and report, in frame pixels: video is searched at the size
    # that puts a face this small at VIDEO_FACE_PX in the detector's input
    min_face: int = 48
    score: float = 0.6  # face detection score threshold
    det_size: int | None = None  # None: images on the pyramid, video from min_face
    margin: float = 0.0  # crop margin around the face box, a share of its side (chosen on val)
    align: bool = True  # rotate crops so the eyes are level
    smoothing: float = 0.6  # video: weight of a track's previous probabilities
    flip_tta: bool = False
    # Video and cameras run the detector and the classifier on every `detect_every`-th
    # frame, tracked boxes carried forward in between. On benchmarks/detect_every.py's
    # real-photo videos N = 5 keeps box IoU 0.83-0.95 and label agreement 91-100% against
    # N = 1 for 3.2x its frames per second (the 95% agreement rule alone would pick 3,
    # 2.5x); kept at 5 for the frame rate small-face recall needs: 6 kept 0.93 of 64 px
    # faces instead of 1.00 (benchmarks/video_recall_candidates.md).
    detect_every: int = 5
    # video: detection rounds a tracked face (found in two or more) may be missed in a row
    # and still be reported at its moved-on box
    keep: int = 2
    # video: detection rounds per whole-frame search for new faces (the rounds between look
    # only where tracked faces are expected, see runtime/regions.py); 8 kept 0.91 of 64 px
    # faces instead of 1.00 (benchmarks/video_recall_candidates.md)
    search_every: int = 4
    detector_engine: str = "ort"  # YuNet through onnxruntime; "opencv" gives the same faces
    reconnect: int = 0  # camera/stream: times to reopen a source that stops sending frames


DETECT = DetectDefaults()
# Video and cameras search for new faces in one whole-frame pass (still images on the
# detector's pyramid; see face_detector.pyramid), at the longer side that puts a face of
# `min_face` pixels at VIDEO_FACE_PX in YuNet's input, within [VIDEO_DET_MIN, VIDEO_DET_MAX]:
# 640 for a 640x480 camera at the default min_face; tracked faces are looked for again in
# upscaled regions (runtime/regions.py), where YuNet finds them best.
VIDEO_FACE_PX = 48
# A video's first detection round searches the pyramid that puts a face of `min_face` pixels
# at SEARCH_FACE_PX in YuNet's input, the bottom of its band (2.67x a 640x480 frame at the
# default min_face), so every face there from the start is tracked from the first frame. On
# val videos (`benchmarks/video_recall.py --split val`, 640x480) 128 kept 0.825 of 48 px
# faces against 0.801 at 96 px (2x) and 0.821 at 160, 64-200 px within 0.01; the first frame
# took 78 ms instead of 47 on an x86 CPU, once per stream.
SEARCH_FACE_PX = 128
# Every PYRAMID_EVERY-th whole-frame search could repeat that pyramid (0: the first round
# only), so a face YuNet misses at the search size is looked for again upscaled. 4 kept 0.98
# of 96 px faces instead of 0.95 for 7% of the frame rate with one face on an x86 CPU
# (benchmarks/video_recall_candidates.md); off, as on a Raspberry Pi 4B each pyramid round
# stalls the stream for an estimated 2.0-3.3 s (benchmarks/README.md).
PYRAMID_EVERY = 0
VIDEO_DET_MIN, VIDEO_DET_MAX = 320, 1280
# `--serve`'s address: the loopback, so nothing is reachable from elsewhere without a token
SERVE_ADDRESS = "127.0.0.1:8080"
