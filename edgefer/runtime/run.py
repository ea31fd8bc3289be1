"""The run loop behind `Recognizer.run` and `edgefer detect`: results of a source to its
outputs (annotated image or video, window, CSV and JSON records), counting frames per
second, every file finished when the run ends, fails or is interrupted (Ctrl-C, SIGTERM)."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO

import cv2

from edgefer.errors import EdgeferError
from edgefer.runtime.records import CsvRecords, FaceRecord, JsonRecords, frame_records
from edgefer.runtime.results import FrameResult
from edgefer.runtime.summary import Tallies, TrackSummary, format_summary
from edgefer.runtime.timeline import plot_timeline
from edgefer.runtime.writer import FrameWriter

if TYPE_CHECKING:
    from edgefer.runtime.serve import LiveServer

WINDOW = "edgefer"


class Frames(Protocol):
    """What the loop needs of a frame source."""

    is_video: bool
    live: bool
    fps: float
    many_images: bool

    def close(self) -> None: ...


MAX_RECORDS = 20_000  # face records a run keeps for its timeline (about 12 MB)


@dataclass
class RunSummary:
    """What a run did: frames, wall time, whether it was interrupted, the files it wrote
    (`outputs`: save, csv, json), per-track figures (`tracks`, `format`, counted over every
    frame) and the face records (the CSV's rows) that `plot_timeline` draws: every frame's
    up to MAX_RECORDS, then every `stride`-th frame's (2, 4, ...), so that memory stays
    bounded on a camera that runs for days."""

    labels: list[str]
    frames: int = 0
    wall_s: float = 0.0
    interrupted: bool = False
    outputs: dict[str, Path] = field(default_factory=dict)
    records: list[FaceRecord] = field(default_factory=list, init=False)
    stride: int = field(default=1, init=False)
    _tallies: Tallies = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._tallies = Tallies(self.labels)

    def add(self, result: FrameResult) -> None:
        """Count a frame's faces, and keep its records if the timeline sample takes it."""
        rows = frame_records(result)
        for r in rows:
            self._tallies.add(r)
        if result.index % self.stride == 0:
            self.records.extend(rows)
        if len(self.records) > MAX_RECORDS:
            self.stride *= 2
            self.records = [r for r in self.records if r.frame % self.stride == 0]

    @property
    def fps(self) -> float:
        """Mean frames per second over the run, end to end."""
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def tracks(self) -> list[TrackSummary]:
        """Per-track dwell time and emotion shares, the longest-seen first."""
        return self._tallies.summaries()

    def format(self) -> str:
        """The per-track table as plain text."""
        return format_summary(self.tracks, self.labels, self.frames)

    def plot_timeline(self, path: str | Path, max_tracks: int = 8) -> Path:
        """Write each track's emotion probabilities over time as a PNG."""
        return plot_timeline(self.records, self.labels, path, max_tracks)

    def to_json(self) -> dict:
        return {"frames": self.frames, "wall_s": round(self.wall_s, 3),
                "fps": round(self.fps, 2), "interrupted": self.interrupted,
                "outputs": {k: str(v) for k, v in self.outputs.items()},
                "tracks": [t.to_json() for t in self.tracks]}


def check_display() -> None:
    """EdgeferError where OpenCV cannot open a window (headless build or no display)."""
    try:
        cv2.namedWindow(WINDOW)
    except cv2.error:
        raise EdgeferError("show needs a display and OpenCV built with GUI support "
                           "(opencv-python instead of opencv-python-headless)") from None


class _Stop:
    """Ctrl-C or SIGTERM during a run: the first asks the loop to stop after the frame in
    hand (so every output holds the same frames), a second interrupts at once."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[_Stop]:
    stop = _Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signals reach the main thread only
        return
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Pacer:
    """Plays a file at its own speed while it is watched: each video frame is released at its
    timestamp, each still image held STILL_S. A run that falls behind (a slow start, a
    stall) slips the clock instead of rushing frames out to catch up, as a camera would."""

    STILL_S = 1.0
    SLIP_S = 0.1
    JUMP_S = 1.0  # a longer wait is a jump in the file's timestamps: start the clock again

    def __init__(self) -> None:
        self.origin: tuple[float, float] | None = None  # (wall clock, frame time) at the start
        self.last = -1.0

    def wait(self, time_s: float | None) -> None:
        if time_s is None:
            time.sleep(self.STILL_S)
            return
        now = time.perf_counter()
        ahead = -1.0 if self.origin is None or time_s < self.last else \
            self.origin[0] + time_s - self.origin[1] - now
        self.last = time_s
        if ahead < -self.SLIP_S or ahead > self.JUMP_S:
            self.origin = (now, time_s)
        elif ahead > 0:
            time.sleep(ahead)


def run_loop(results: Iterator[FrameResult], frames: Frames, labels: list[str], *,
             save: str | Path | None = None, csv: str | Path | None = None,
             json: str | Path | TextIO | None = None, show: bool = False,
             on_frame: Callable[[FrameResult, float | None], None] | None = None,
             serve: LiveServer | None = None) -> RunSummary:
    """Drive `results` to the outputs; see `Recognizer.run`."""
    summary = RunSummary(labels)
    outputs: list[FrameWriter | CsvRecords | JsonRecords] = []
    try:
        if show:
            check_display()
        writer = FrameWriter(Path(save), frames.is_video, frames.fps, frames.many_images) \
            if save is not None else None
        csv_out = CsvRecords(csv, labels) if csv is not None else None
        json_out = JsonRecords(json) if json is not None else None
    except BaseException:
        frames.close()
        raise
    outputs = [o for o in (writer, csv_out, json_out) if o is not None]
    for name, value in (("save", save), ("csv", csv)):
        if value is not None:
            summary.outputs[name] = Path(value)
    if isinstance(json, (str, Path)):
        summary.outputs["json"] = Path(json)
    start = last = time.perf_counter()
    fps = None
    pace = Pacer() if serve is not None and serve.realtime and not frames.live else None
    try:
        with _stop_on_signals() as stop:
            for result in results:
                now = time.perf_counter()
                if summary.frames:
                    fps = 1 / (now - last) if fps is None else 0.9 * fps + 0.1 / (now - last)
                last = now
                summary.add(result)
                for out in (json_out, csv_out):
                    if out is not None:
                        out.write(result)
                if serve is not None:
                    serve.publish(result, fps if frames.is_video else None)
                if writer is not None or show:
                    shown = result.plot(fps if frames.is_video else None)
                    if writer is not None:
                        writer.write(shown, result.source)
                    if show:
                        cv2.imshow(WINDOW, shown)
                        if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                            break
                summary.frames += 1
                if on_frame is not None:
                    on_frame(result, fps)
                if pace is not None:
                    pace.wait(result.time_s)
                if stop.requested:
                    summary.interrupted = True
                    break
                if serve is not None and serve.closed:
                    break
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        summary.wall_s = time.perf_counter() - start
        for out in outputs:
            out.close(keep=summary.frames > 0)
        frames.close()
        if serve is not None:
            serve.end()
        if show:
            with contextlib.suppress(cv2.error):
                cv2.destroyWindow(WINDOW)
    return summary
