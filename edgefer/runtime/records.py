"""The per-frame records of `detect --json` / `--csv` and `Recognizer.run(json=, csv=)`: one
schema for writing, reading back and summarising.

CSV: one row per face per frame, and one row with empty face fields for a frame without a
face, so a timeline has no holes. Columns: `frame` (index from 0), `time_s` (the video
container's timestamp, seconds since the start for cameras and streams, empty for still
images), `source`, `track_id` (video: a face's id across frames; empty for still images),
`x, y, w, h` (the box in pixels), `score` (the detector's), `emotion`, `confidence`, then
one column per emotion label with its probability (smoothed along the track on video).

JSON Lines: one object per frame: `schema` (SCHEMA_VERSION), `frame`, `time_s`, `source`,
`time_ms` (per-stage milliseconds) and `faces` (box, score, emotion, confidence, probs,
landmarks, track_id).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from edgefer.errors import EdgeferError, MissingFileError
from edgefer.runtime.results import FrameResult

SCHEMA_VERSION = 1
FRAME_FIELDS = ("frame", "time_s", "source")
FACE_FIELDS = ("track_id", "x", "y", "w", "h", "score", "emotion", "confidence")


@dataclass(frozen=True)
class FaceRecord:
    """One CSV row: a face in a frame, or the frame alone (`emotion` None) when it has none."""

    frame: int
    time_s: float | None
    source: str
    track_id: int | None = None
    box: tuple[int, int, int, int] | None = None
    score: float | None = None
    emotion: str | None = None
    confidence: float | None = None
    probs: tuple[float, ...] | None = None  # in label order


def frame_records(result: FrameResult) -> list[FaceRecord]:
    """A frame's rows: one per face, or one empty-faced row."""
    base = (result.index, result.time_s, result.source)
    if not result.faces:
        return [FaceRecord(*base)]
    return [FaceRecord(*base, f.track_id, tuple(int(v) for v in f.box), f.score, f.emotion,
                       f.confidence, tuple(f.probs[k] for k in result.labels))
            for f in result.faces]


def frame_json(result: FrameResult) -> dict:
    """A frame's JSON Lines object."""
    return {"schema": SCHEMA_VERSION, **result.to_json()}


def csv_header(labels: list[str]) -> list[str]:
    return [*FRAME_FIELDS, *FACE_FIELDS, *labels]


def _cells(r: FaceRecord, n_labels: int) -> list[str]:
    def num(v: float | None, digits: int) -> str:
        return "" if v is None else f"{v:.{digits}f}"

    face = ["" if r.track_id is None else str(r.track_id),
            *(("",) * 4 if r.box is None else (str(v) for v in r.box)),
            num(r.score, 4), r.emotion or "", num(r.confidence, 4)]
    probs = [""] * n_labels if r.probs is None else [num(p, 4) for p in r.probs]
    return [str(r.frame), num(r.time_s, 3), r.source, *face, *probs]


class RecordFile:
    """A text file of records written beside its target and moved into place by `close`, so
    a reader never sees half a file; an unwritable path fails on opening, before any work."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file: TextIO = open(self._tmp, "w", newline="", encoding="utf-8")  # noqa: SIM115
        except OSError as e:
            raise EdgeferError(f"cannot write {self.path}: {e.strerror or e}") from None

    def close(self, keep: bool = True) -> None:
        """Finish the file (or drop it with `keep=False`)."""
        if self.file.closed:
            return
        self.file.close()
        if keep:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)


class CsvRecords(RecordFile):
    """Writes FaceRecords as CSV rows (see the module's schema), flushed each frame."""

    def __init__(self, path: str | Path, labels: list[str]) -> None:
        super().__init__(path)
        self._csv = csv.writer(self.file)
        self._csv.writerow(csv_header(labels))
        self._labels = len(labels)

    def write(self, result: FrameResult) -> None:
        self._csv.writerows(_cells(r, self._labels) for r in frame_records(result))
        self.file.flush()


class JsonRecords:
    """Writes one JSON object per frame to a file (moved into place on close) or a stream."""

    def __init__(self, target: str | Path | TextIO) -> None:
        self._file = RecordFile(target) if isinstance(target, (str, Path)) else None
        self.stream = self._file.file if self._file else target

    def write(self, result: FrameResult) -> None:
        self.stream.write(json.dumps(frame_json(result)) + "\n")
        self.stream.flush()

    def close(self, keep: bool = True) -> None:
        if self._file is not None:
            self._file.close(keep)


def read_csv(path: str | Path) -> tuple[list[str], list[FaceRecord]]:
    """The labels and rows of a CSV that `--csv` wrote; EdgeferError for any other file."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"CSV not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise EdgeferError(f"cannot read {path}: {e}") from None
    rows = csv.reader(io.StringIO(text))
    header = next(rows, [])
    fixed = len(FRAME_FIELDS) + len(FACE_FIELDS)
    if tuple(header[:fixed]) != (*FRAME_FIELDS, *FACE_FIELDS) or len(header) == fixed:
        raise EdgeferError(f"{path}: not a CSV written by `edgefer detect --csv` (expected "
                           f"columns {','.join((*FRAME_FIELDS, *FACE_FIELDS))},<emotions>)")
    labels = header[fixed:]
    try:
        return labels, list(_parse(rows, len(header)))
    except (ValueError, IndexError) as e:
        raise EdgeferError(f"{path}: malformed row {e}") from None


def _parse(rows: Iterator[list[str]], width: int) -> Iterator[FaceRecord]:
    def opt(v: str, kind: type) -> float | int | None:
        return kind(v) if v else None

    for n, cells in enumerate(rows, start=2):
        if len(cells) != width:
            raise ValueError(f"{n}: {len(cells)} cells, expected {width}")
        frame, time_s, source, track, x, y, w, h, score, emotion, conf, *probs = cells
        try:
            yield FaceRecord(
                int(frame), opt(time_s, float), source, opt(track, int),
                None if not x else (int(x), int(y), int(w), int(h)), opt(score, float),
                emotion or None, opt(conf, float),
                tuple(float(p) for p in probs) if emotion else None)
        except ValueError as e:
            raise ValueError(f"{n}: {e}") from None
