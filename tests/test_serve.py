"""`edgefer detect --serve`: the live page in a real browser, the MJPEG stream, server-sent
events in the `--json` schema, tokens, client limits and clients that vanish."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import Browser, assert_one_line_error, run_cli

from edgefer.bench.videos import camera_pan
from edgefer.errors import EdgeferError
from edgefer.runtime.recognizer import Recognizer
from edgefer.runtime.records import SCHEMA_VERSION
from edgefer.runtime.serve import LiveServer, parse_address, resolve_token

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def video(photo, tmp_path_factory) -> Path:
    """Two seconds of a real face, the camera panning and zooming, 640x480 at 30 FPS."""
    return camera_pan(cv2.imread(str(photo)), tmp_path_factory.mktemp("serve") / "pan.avi",
                      focus=(256, 200), frames=60)


@pytest.fixture()
def served(video):
    """A LiveServer on a free port, fed by `Recognizer.run` on the looped video in a thread."""
    live = LiveServer("127.0.0.1:0", TOKEN, info={"model": "edge"})
    recognizer = Recognizer(threads=1)
    runner = threading.Thread(target=recognizer.run, args=(video,),
                              kwargs={"serve": live, "loop": True, "max_frames": 100_000},
                              daemon=True)
    runner.start()
    yield live
    live.close()


def get(live: LiveServer, path: str, token: str | None = TOKEN, header: bool = False,
        timeout: float = 10) -> urllib.request.addinfourl:
    url = f"http://127.0.0.1:{live.port}{path}"
    request = urllib.request.Request(url)
    if token and header:
        request.add_header("Authorization", f"Bearer {token}")
    elif token:
        url += ("&" if "?" in path else "?") + f"token={token}"
        request = urllib.request.Request(url)
    return urllib.request.urlopen(request, timeout=timeout)


def wait_idle(live: LiveServer) -> None:
    """Until the server has noticed every client that left (at its next frame)."""
    deadline = time.monotonic() + 10
    while json.load(get(live, "/healthz"))["clients"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert json.load(get(live, "/healthz"))["clients"] == 0


def test_addresses_and_tokens_are_checked_before_serving():
    assert parse_address("0.0.0.0:8080") == ("0.0.0.0", 8080)
    assert parse_address("[::1]:9000") == ("::1", 9000)
    assert parse_address(":8080") == parse_address("8080") == ("127.0.0.1", 8080)
    for bad in ("host:", "host:http", "1.2.3.4:70000"):
        with pytest.raises(EdgeferError, match="expected HOST:PORT"):
            parse_address(bad)
    assert resolve_token("127.0.0.1", None) is None
    assert resolve_token("localhost", None) is None
    with pytest.raises(EdgeferError, match="pass --token"):
        resolve_token("0.0.0.0", None)
    with pytest.raises(EdgeferError, match="at least 8"):
        resolve_token("0.0.0.0", "short")
    made = resolve_token("0.0.0.0", "auto")
    assert len(made) >= 20 and made != resolve_token("0.0.0.0", "auto")


def test_cli_refuses_a_public_address_without_a_token(video):
    proc = run_cli("detect", "--source", str(video), "--serve", "0.0.0.0:8080", check=False)
    assert_one_line_error(proc, "--token")
    proc = run_cli("detect", "--source", str(video), "--token", TOKEN, check=False)
    assert_one_line_error(proc, "--serve")
    proc = run_cli("detect", "--camera", "0", "--loop", check=False)
    assert_one_line_error(proc, "loop")


def test_every_route_needs_the_token_and_no_path_reaches_files(served):
    for path in ("/", "/healthz", "/stream.mjpg", "/events"):
        with pytest.raises(urllib.error.HTTPError) as e:
            get(served, path, token=None)
        assert e.value.code == 401
        with pytest.raises(urllib.error.HTTPError) as e:
            get(served, path, token="wrong-token")
        assert e.value.code == 401
    health = json.load(get(served, "/healthz", header=True))
    assert health["status"] == "running" and health["model"] == "edge"
    page = get(served, "/").read().decode()
    assert "<img" in page and "EventSource" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing from elsewhere
    for path in ("/../../etc/passwd", "/live.html", "/%2e%2e/etc/passwd", "/edgefer"):
        with pytest.raises(urllib.error.HTTPError) as e:
            get(served, path)
        assert e.value.code == 404


def test_events_are_the_json_records_and_the_stream_is_jpeg(served):
    events = get(served, "/events")
    frames = []
    while len(frames) < 5:
        line = events.readline().decode()
        if line.startswith("data: "):
            frames.append(json.loads(line[6:]))
    events.close()
    for f in frames:
        assert f["schema"] == SCHEMA_VERSION
        assert set(f) == {"schema", "frame", "time_s", "source", "time_ms", "faces"}
        assert isinstance(f["time_s"], float) and "classify" in f["time_ms"]
    assert [f["frame"] for f in frames] == sorted(f["frame"] for f in frames)
    assert any(f["faces"] for f in frames)
    assert set(frames[-1]["faces"][0]) >= {"box", "emotion", "confidence", "probs"}

    stream = get(served, "/stream.mjpg")
    assert stream.headers["Content-Type"].startswith("multipart/x-mixed-replace")
    head = stream.read(200)
    size = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    body = head.split(b"\r\n\r\n", 1)[1] + stream.read(size)
    stream.close()
    image = cv2.imdecode(np.frombuffer(body[:size], np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (480, 640, 3)


def test_clients_that_vanish_and_too_many_clients(served):
    for i in range(50):  # connect, ask for a stream, drop the connection with a reset
        s = socket.create_connection(("127.0.0.1", served.port), timeout=5)
        path = "/stream.mjpg" if i % 2 else "/events"
        s.sendall(f"GET {path}?token={TOKEN} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        s.recv(64)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    wait_idle(served)  # every slot came back
    held = [get(served, "/events") for _ in range(16)]  # the limit
    with pytest.raises(urllib.error.HTTPError) as e:
        get(served, "/stream.mjpg")
    assert e.value.code == 503
    for h in held:
        h.close()
    wait_idle(served)
    assert get(served, "/events").readline().startswith(b"data: ")  # still serving


def test_a_source_that_ends_tells_the_clients(video):
    with LiveServer("127.0.0.1:0", realtime=False) as live:
        events = []
        reader = threading.Thread(target=lambda: events.extend(
            get(live, "/events", token=None, timeout=60).read().decode().split("\n\n")))
        reader.start()
        time.sleep(0.5)
        summary = Recognizer(threads=1).run(video, serve=live)
        reader.join(timeout=30)
        assert summary.frames == 60 and live.latest.ended
        assert "event: end" in events[-2] and json.load(get(live, "/healthz", token=None))[
            "status"] == "ended"


@pytest.mark.slow
def test_the_page_plays_in_a_browser(video, tmp_path):
    """`edgefer detect --serve` as a user starts it, the page in headless Chromium: the video
    plays and the chart fills; the screenshot is not blank. EDGEFER_SCREENSHOT=PATH keeps it
    (docs/live-view.png was made so)."""
    proc = subprocess.Popen([sys.executable, "-m", "edgefer", "detect", "--source", str(video),
                             "--serve", "127.0.0.1:0", "--token", "auto", "--loop",
                             "--threads", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    browser = None
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://\S+", line).group(0)
        assert "token=" in url  # --token auto: printed once, with the page's address
        browser = Browser(tmp_path / "profile")
        browser.open(url)
        state: dict = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = browser.evaluate("({frames: +document.body.dataset.frames || 0, "
                                     "points: +document.body.dataset.points || 0, "
                                     "video: document.getElementById('video').naturalWidth, "
                                     "status: document.getElementById('status').textContent})"
                                     ) or {}  # None while the page is still loading
            if state.get("frames", 0) >= 60 and state.get("video", 0) > 0:
                break
            time.sleep(0.5)
        assert state.get("frames", 0) >= 60 and state["points"] >= 60, state
        assert state["video"] == 640 and state["status"] == "live", state
        shot = cv2.imread(str(browser.screenshot(tmp_path / "live.png")))
        assert shot.std() > 20 and (shot.max(axis=2) > 200).mean() > 0.01
        if keep := os.environ.get("EDGEFER_SCREENSHOT"):
            shutil.copyfile(tmp_path / "live.png", keep)
    finally:
        if browser is not None:
            browser.close()
        proc.send_signal(2)
        out = proc.communicate(timeout=30)[0]
    assert proc.returncode == 130 and "Traceback" not in out, out


def test_without_a_token_only_this_machines_names_are_served():
    with LiveServer("127.0.0.1:0") as live:
        def status(host: str) -> int:
            request = urllib.request.Request(f"http://127.0.0.1:{live.port}/healthz",
                                             headers={"Host": host})
            try:
                return urllib.request.urlopen(request, timeout=5).status
            except urllib.error.HTTPError as e:
                return e.code

        assert status(f"localhost:{live.port}") == status("[::1]") == 200
        assert status(f"127.0.0.1:{live.port}") == 200
        assert status("evil.example") == status(f"evil.example:{live.port}") == 403
    with LiveServer("0.0.0.0:0", token="a+b&c#d%e") as live:  # every interface: a token
        assert live.url == live.address + "?token=a%2Bb%26c%23d%25e"
        assert "0.0.0.0" not in live.address  # the machine's name, reachable from elsewhere
        assert json.load(get(live, "/healthz", token="a+b&c#d%e", header=True))["frames"] == 0
