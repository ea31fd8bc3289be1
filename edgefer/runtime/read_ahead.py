"""Decoding on a background thread: the next frames are read while the one in hand is
processed, so decoding and inference share the cores instead of taking turns."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_ITEM, _NOTE, _ERROR, _END = range(4)


class ReadAhead(Generic[T]):
    """Iterates what `make(note)` returns on a daemon thread, up to `depth` items ahead.

    Everything the producer does happens on its thread (a video capture is opened, read
    and released there); an exception it raises is raised here, in order; messages it
    passes to `note` reach `on_note` here, on the consumer's thread. `close()` stops it.
    """

    def __init__(self, make: Callable[[Callable[[str], None]], Iterator[T]], depth: int,
                 on_note: Callable[[str], None]) -> None:
        self._queue: queue.Queue[tuple[int, object]] = queue.Queue(depth)
        self._stop = threading.Event()
        self._on_note = on_note
        self._thread = threading.Thread(target=self._produce, args=(make,), daemon=True,
                                        name="edgefer-read-ahead")
        self._thread.start()

    def _produce(self, make: Callable[[Callable[[str], None]], Iterator[T]]) -> None:
        items = None
        try:
            items = make(lambda message: self._put(_NOTE, message))
            for item in items:
                if not self._put(_ITEM, item):
                    return
            self._put(_END, None)
        except BaseException as e:  # re-raised on the consumer's thread
            self._put(_ERROR, e)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator's clean-up runs here, on the thread that used it

    def _put(self, kind: int, value: object) -> bool:
        """Queue an item, waiting for room; False once the consumer has closed."""
        while not self._stop.is_set():
            try:
                self._queue.put((kind, value), timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        try:
            while True:
                kind, value = self._queue.get()
                if kind == _ITEM:
                    yield value  # type: ignore[misc]
                elif kind == _NOTE:
                    self._on_note(value)  # type: ignore[arg-type]
                elif kind == _ERROR:
                    raise value  # type: ignore[misc]
                else:
                    return
        finally:
            self.close()

    @property
    def alive(self) -> bool:
        """Whether the producer thread is still running."""
        return self._thread.is_alive()

    def close(self, timeout: float = 2.0) -> None:
        """Stop the producer and wait for it to finish (its source released) up to `timeout`
        seconds; a source blocked in a read is left to the daemon thread."""
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
