"""Read-ahead decoding: items, notes and errors arrive in order on the consumer's thread, and
closing stops the producer and releases the capture it owns."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from edgefer import EdgeferError
from edgefer.runtime.read_ahead import ReadAhead
from edgefer.runtime.sources import READ_AHEAD, FrameSource


def test_items_notes_and_errors_arrive_in_order_on_the_consumers_thread():
    def make(note):
        yield 1
        note("skipped one")
        yield 2
        raise EdgeferError("broken at 3")

    seen, threads = [], set()

    def on_note(message):
        seen.append(message)
        threads.add(threading.current_thread())

    reader = ReadAhead(make, 4, on_note)
    with pytest.raises(EdgeferError, match="broken at 3"):
        for item in reader:
            seen.append(item)
    assert seen == [1, "skipped one", 2]
    assert threads == {threading.current_thread()}
    assert not reader.alive


def test_closing_stops_the_producer_and_runs_its_clean_up_on_its_thread():
    made, cleaned = [], []

    def make(note):
        try:
            for i in range(10_000):
                made.append(i)
                yield i
        finally:
            cleaned.append(threading.current_thread().name)

    reader = ReadAhead(make, 3, print)
    items = iter(reader)
    assert [next(items) for _ in range(2)] == [0, 1]
    items.close()  # the consumer stops early: the producer must not run on
    assert not reader.alive and cleaned == ["edgefer-read-ahead"]
    assert len(made) <= 2 + 3 + 1  # those taken, a full queue, one waiting to be queued


class CountingCapture:
    """A 40-frame video that counts its reads and releases."""

    frames = 40

    def __init__(self, *args):
        self.read_count, self.released = 0, 0
        CountingCapture.last = self

    def isOpened(self):
        return True

    def read(self):
        if self.read_count >= self.frames:
            return False, None
        self.read_count += 1
        time.sleep(0.002)
        return True, np.full((32, 32, 3), self.read_count, np.uint8)

    def get(self, prop):
        return {cv2.CAP_PROP_FRAME_COUNT: self.frames, cv2.CAP_PROP_FPS: 25.0}.get(prop, 0.0)

    def release(self):
        self.released += 1


@pytest.fixture
def counting(monkeypatch, tmp_path):
    monkeypatch.setattr(cv2, "VideoCapture", CountingCapture)
    video = tmp_path / "clip.avi"
    video.write_bytes(b"not read: the capture is faked")
    return video


def test_a_video_decodes_ahead_and_closing_mid_stream_releases_it(counting):
    source = FrameSource(str(counting))
    frames = iter(source)
    first = next(frames)
    assert first.image[0, 0, 0] == 1 and first.time_s == 0
    cap = CountingCapture.last
    deadline = time.monotonic() + 5
    while cap.read_count < 1 + READ_AHEAD and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cap.read_count >= 1 + READ_AHEAD  # decoded while the first frame was in hand
    assert cap.read_count < cap.frames  # but no further than the queue allows
    source.close()
    assert cap.released == 1 and cap.read_count < cap.frames


def test_looping_continues_the_timestamps_and_reopens_the_video(counting):
    source = FrameSource(str(counting), loop=True)
    frames = []
    for frame in source:
        frames.append(frame)
        if len(frames) == 2 * CountingCapture.frames + 5:
            break
    source.close()
    assert [int(f.image[0, 0, 0]) for f in frames[38:43]] == [39, 40, 1, 2, 3]
    times = [f.time_s for f in frames]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert times[40] == pytest.approx(40 / 25)  # the first pass ends one frame after 39/25
