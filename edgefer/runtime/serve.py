"""`LiveServer`: the live view of a run over HTTP, for a device without a display.

Routes: `/` (one self-contained page: nothing is fetched from elsewhere), `/stream.mjpg`
(annotated frames as multipart MJPEG), `/events` (server-sent events: one JSON object per
frame, the `--json` schema; an `end` event when the source ends) and `/healthz`. No path maps
to the file system. The standard library's threading HTTP server: one thread per client, each
waiting for the newest frame, so the run never waits for a client and a slow client skips
frames instead of queueing them.

Security: it binds 127.0.0.1 unless told otherwise; any other address needs a token, checked
on every route (`Authorization: Bearer TOKEN` or `?token=TOKEN`, the page's own form).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from urllib.parse import parse_qs, quote, urlsplit

import cv2

from edgefer.errors import BadArgumentError, EdgeferError
from edgefer.runtime.defaults import SERVE_ADDRESS
from edgefer.runtime.records import frame_json
from edgefer.runtime.results import FrameResult

MAX_CLIENTS = 16  # open /stream.mjpg and /events connections (8 pages); more get 503
JPEG_QUALITY = 80
STREAM_FPS = 30  # the most frames a second /stream.mjpg sends (a faster run skips frames)
KEEPALIVE_S = 10.0  # an SSE comment this often, so proxies and browsers keep the stream


def parse_address(address: str) -> tuple[str, int]:
    """HOST:PORT, [IPv6]:PORT, :PORT or PORT (host 127.0.0.1) -> (host, port)."""
    host, sep, port = address.rpartition(":")
    if not sep:
        host, port = "", address
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise BadArgumentError(f"serve address {address!r}: expected HOST:PORT, e.g. "
                               f"{SERVE_ADDRESS} or 0.0.0.0:8080")
    return host, int(port)


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_token(host: str, token: str | None) -> str | None:
    """The token to require: `token` ("auto": a new random one), None on a loopback host
    without one; BadArgumentError for any other host without one."""
    if token == "auto":
        return secrets.token_urlsafe(18)
    if token is not None and len(token) < 8:
        raise BadArgumentError("a serve token must be at least 8 characters (or 'auto')")
    if token is None and not is_loopback(host):
        raise BadArgumentError(f"serving on {host} makes the camera reachable from other "
                               "machines: pass --token SECRET (or --token auto)")
    return token


class Latest:
    """The newest frame (its result, the run's FPS and its JSON event); readers wait for one
    newer than theirs. Its JPEG is drawn and encoded once, by the first stream that wants it,
    on that stream's thread: never on the run's."""

    def __init__(self) -> None:
        self._cond, self._encoding = threading.Condition(), threading.Lock()
        self.seq, self.event, self.ended = 0, b"", False
        self.result: FrameResult | None = None
        self.fps: float | None = None
        self._jpeg: tuple[int, bytes] = (0, b"")

    def publish(self, result: FrameResult, fps: float | None, event: bytes) -> None:
        with self._cond:
            self.seq, self.result, self.fps, self.event = self.seq + 1, result, fps, event
            self.ended = False  # a new run on the same server
            self._cond.notify_all()

    def jpeg(self) -> tuple[int, bytes]:
        """(seq, JPEG) of the newest frame annotated, encoded once for every stream."""
        with self._cond:
            seq, result, fps = self.seq, self.result, self.fps
        with self._encoding:
            if self._jpeg[0] < seq and result is not None:
                ok, buf = cv2.imencode(".jpg", result.plot(fps),
                                       [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
                if ok:
                    self._jpeg = (seq, buf.tobytes())
            return self._jpeg

    def end(self) -> None:
        with self._cond:
            self.ended = True
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> tuple[int, bytes, bool]:
        """(seq, event, ended) once seq > `seen`, the source ended or `timeout` ran."""
        with self._cond:
            self._cond.wait_for(lambda: self.seq > seen or self.ended, timeout)
            return self.seq, self.event, self.ended


class LiveServer:
    """Serves a run's annotated frames and results while it runs (see the module's doc).

    `info` (model, backend, ...) is reported by /healthz; `realtime` plays a file at its own
    speed, as a camera would (False: as fast as it runs). Use as a context manager, or call
    `close`. `publish` is what the run loop calls per frame; `end` tells clients the source
    ended (the page says so; the server keeps serving the last frame until closed).

        with LiveServer("127.0.0.1:8080") as live:
            Recognizer().run("clip.mp4", serve=live, loop=True)
    """

    def __init__(self, address: str = SERVE_ADDRESS, token: str | None = None,
                 info: dict | None = None, max_clients: int = MAX_CLIENTS,
                 realtime: bool = True) -> None:
        host, port = parse_address(address)
        self.realtime = realtime
        self.token = resolve_token(host, token)
        self.info, self.latest = dict(info or {}), Latest()
        self.started = time.monotonic()
        self._slots = threading.BoundedSemaphore(max_clients)
        self.clients, self._lock = 0, threading.Lock()
        self._closing = threading.Event()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_class = type("Server", (_QuietServer,), {"address_family": family})
        try:
            self.httpd = server_class((host, port), _handler(self))
        except OSError as e:
            raise EdgeferError(f"cannot serve on {host}:{port}: {e.strerror or e}") from None
        self.host, self.port = host, self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="edgefer-serve",
                                        daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        """The page's address without the token: this machine's name where the server
        listens on every interface."""
        host = socket.gethostname() if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}/"

    @property
    def url(self) -> str:
        """The page's address with the token, where one is needed."""
        return self.address + (f"?token={quote(self.token, safe='')}" if self.token else "")

    def publish(self, result: FrameResult, fps: float | None = None) -> None:
        """Offer a frame to every client (the run's FPS drawn on its image); the image is
        drawn and encoded only when a stream wants it, at most STREAM_FPS times a second."""
        self.latest.publish(result, fps, json.dumps(frame_json(result)).encode())

    @property
    def closed(self) -> bool:
        """Whether `close` was called (a run serving here then stops)."""
        return self._closing.is_set()

    def end(self) -> None:
        """The source ended: clients are told, the last frame stays."""
        self.latest.end()

    def close(self) -> None:
        """Stop serving; open streams end."""
        if self._closing.is_set():
            return
        self._closing.set()
        self.latest.end()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _count(self, change: int) -> None:
        with self._lock:
            self.clients += change

    def health(self) -> dict:
        return {"status": "ended" if self.latest.ended else "running", **self.info,
                "uptime_s": round(time.monotonic() - self.started, 1),
                "frames": self.latest.seq, "clients": self.clients}


class _QuietServer(ThreadingHTTPServer):
    """One daemon thread per client; a client that vanished mid-reply is not an error."""

    daemon_threads = True
    block_on_close = False  # close() never waits on a client that stopped reading

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def page() -> bytes:
    """The live page (edgefer/runtime/live.html), self-contained."""
    return files("edgefer.runtime").joinpath("live.html").read_bytes()


def _handler(live: LiveServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "edgefer"
        sys_version = ""
        timeout = 10  # a client that sends nothing or stops reading is dropped

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the run prints its own progress."""

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if not live.token and not is_loopback(_host_name(self.headers.get("Host", ""))):
                # without a token only this machine's own names: no DNS rebinding
                self._send(HTTPStatus.FORBIDDEN, b"forbidden host\n", "text/plain")
                return
            if live.token and not self._authorized(url.query):
                self._send(HTTPStatus.UNAUTHORIZED, b"token required\n", "text/plain",
                           {"WWW-Authenticate": "Bearer"})
                return
            route = {"/": self._page, "/healthz": self._health,
                     "/stream.mjpg": self._stream, "/events": self._events}.get(url.path)
            if route is None:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
            else:
                route()

        def _authorized(self, query: str) -> bool:
            header = self.headers.get("Authorization", "")
            given = header[7:] if header.startswith("Bearer ") else \
                (parse_qs(query).get("token") or [""])[0]
            return hmac.compare_digest(given.encode(), live.token.encode())

        def _send(self, status: HTTPStatus, body: bytes, kind: str,
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _page(self) -> None:
            self._send(HTTPStatus.OK, page(), "text/html; charset=utf-8")

        def _health(self) -> None:
            self._send(HTTPStatus.OK, json.dumps(live.health()).encode(), "application/json")

        def _stream(self) -> None:
            def part(seq: int, event: bytes) -> tuple[int, bytes]:  # the newest frame's JPEG
                seq, jpeg = live.latest.jpeg()
                return seq, (b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                             + str(len(jpeg)).encode() + b"\r\n\r\n" + jpeg + b"\r\n")

            self._serve_stream("multipart/x-mixed-replace; boundary=frame", part,
                               1 / STREAM_FPS)

        def _events(self) -> None:
            self._serve_stream("text/event-stream",
                               lambda seq, event: (seq, b"data: " + event + b"\n\n"), 0.0,
                               end=b"event: end\ndata: {}\n\n", keepalive=b": keepalive\n\n")

        def _serve_stream(self, kind: str, part: Callable[[int, bytes], tuple[int, bytes]],
                          interval: float, end: bytes = b"", keepalive: bytes = b"") -> None:
            """Send `part(seq, event)` of each newer frame, at most one per `interval`
            seconds; `end` when the source ends, `keepalive` after KEEPALIVE_S of quiet."""
            if not live._slots.acquire(blocking=False):
                self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"too many clients\n", "text/plain")
                return
            live._count(+1)
            try:
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", kind)
                self.send_header("Cache-Control", "no-store")
                self.send_header("Connection", "close")
                self.end_headers()
                seen, quiet = 0, time.monotonic()
                while not live._closing.is_set():
                    seq, event, ended = live.latest.wait(seen, timeout=1.0)
                    if seq > seen:
                        seen, body = part(seq, event)
                        self.wfile.write(body)
                        quiet = time.monotonic()
                        live._closing.wait(interval)
                    elif ended:
                        self.wfile.write(end)
                        break
                    elif keepalive and time.monotonic() - quiet > KEEPALIVE_S:
                        self.wfile.write(keepalive)
                        quiet = time.monotonic()
                    self.wfile.flush()
            except (ConnectionError, TimeoutError):
                pass  # the client left
            finally:
                live._count(-1)
                live._slots.release()
    return Handler


def _host_name(header: str) -> str:
    """The host of a Host header: "[::1]:8080" -> "::1", "localhost:8080" -> "localhost"."""
    if header.startswith("["):
        return header[1:header.find("]")]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header

