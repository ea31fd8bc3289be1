"""The cost of watching: `edgefer detect --serve` with 0, 1 and 4 viewers, and memory over a
soak with viewers coming and going.

Each viewer is what the page opens, `/stream.mjpg` and `/events`, read as fast as they come
by a separate process (as a browser on another machine would). Speed: a 640x480 MJPG video of
4 real FER2013 test faces (`videos.composite_video`) run at detect's defaults as fast as it
goes (`LiveServer(realtime=False)`), the viewer counts taking turns, the best of --repeats
passes each; CPU ms per frame is the detect process's own (the server's threads included).
Soak: the same video looped at its own 30 FPS for --soak-s seconds while up to 4 viewers
come and go (each stays 1-10 s; some leave without closing), RSS sampled every --every-s.
"""

from __future__ import annotations

import multiprocessing
import random
import signal
import socket
import tempfile
import threading
import time
from pathlib import Path

from edgefer.bench import harness
from edgefer.bench.measure import rss_mb
from edgefer.bench.suite import PIPELINE_FACES
from edgefer.bench.videos import composite_video
from edgefer.data import load_faces
from edgefer.runtime.recognizer import Recognizer
from edgefer.runtime.serve import LiveServer

VIEWERS = (0, 1, 4)
mp = multiprocessing.get_context("fork")  # a viewer needs nothing but a socket


def view(port: int, seconds: float, polite: bool) -> None:
    """One viewer: both streams read until `seconds` pass, then closed (`polite`) or reset."""
    for sig in (signal.SIGINT, signal.SIGTERM):  # not the run loop's, inherited by the fork
        signal.signal(sig, signal.SIG_DFL)
    sockets = []
    for path in ("/stream.mjpg", "/events"):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        sockets.append(s)
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            if not all([s.recv(1 << 16) for s in sockets]):
                break  # the server closed
    except OSError:
        pass
    for s in sockets:
        if not polite:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        s.close()


def speed(recognizer: Recognizer, video: Path, viewers: int, frames: int) -> tuple[float, float]:
    """(frames per second, CPU ms per frame) of one pass with `viewers` reading."""
    with LiveServer("127.0.0.1:0", realtime=False, max_clients=16) as live:
        readers = [mp.Process(target=view, args=(live.port, 3600, True), daemon=True)
                   for _ in range(viewers)]
        for r in readers:
            r.start()
        while live.clients < 2 * viewers:
            time.sleep(0.05)
        cpu = time.process_time()
        summary = recognizer.run(video, serve=live, max_frames=frames, loop=True)
        cpu = time.process_time() - cpu
        for r in readers:
            r.terminate()
    return summary.fps, 1000 * cpu / summary.frames


def soak(recognizer: Recognizer, video: Path, seconds: float, every: float,
         table: harness.Table) -> None:
    """Run the looped video at its own speed while viewers come and go; a row per sample."""
    rng = random.Random(0)
    with LiveServer("127.0.0.1:0", max_clients=16) as live:
        stop = threading.Event()

        def crowd() -> None:
            viewers: list[mp.Process] = []
            while not stop.is_set():
                viewers = [v for v in viewers if v.is_alive()]
                if len(viewers) < 4:
                    v = mp.Process(target=view, args=(live.port, rng.uniform(1, 10),
                                                      rng.random() < 0.5), daemon=True)
                    v.start()
                    viewers.append(v)
                stop.wait(rng.uniform(0.2, 2))
            for v in viewers:
                v.terminate()

        threads = [threading.Thread(target=crowd, daemon=True)]
        threads[0].start()
        start, samples, frames = time.monotonic(), [0], [0]

        def sample(result, fps) -> None:
            frames[0] += 1
            elapsed = time.monotonic() - start
            if elapsed >= samples[-1]:
                print(table.add(round(elapsed), frames[0], live.clients, rss_mb()), flush=True)
                samples.append(samples[-1] + every)
            if elapsed >= seconds:
                live.close()  # ends the run

        recognizer.run(video, serve=live, loop=True, on_frame=sample)
        stop.set()
        threads[0].join()


def main(argv: list[str] | None = None) -> None:
    ap = harness.parser(__doc__, __file__, "data", "model", "threads", "out")
    ap.add_argument("--frames", type=harness.positive, default=600, help="frames per pass")
    ap.add_argument("--repeats", type=harness.positive, default=3)
    ap.add_argument("--soak-s", type=harness.positive, default=600)
    ap.add_argument("--every-s", type=harness.positive, default=60)
    args = ap.parse(argv)
    faces = load_faces(args.data).split("test").images[PIPELINE_FACES]
    recognizer = Recognizer(args.model, threads=args.threads)
    report = harness.Report.start(args.command)
    report.add(f"Model {args.model.name} at detect's defaults, "
               f"{harness.threads_text(args.threads)}, a 640x480 MJPG video of {len(faces)} "
               f"real FER2013 test faces; a viewer is the page's two streams (/stream.mjpg and "
               f"/events) read by another process. The best of {args.repeats} passes of "
               f"{args.frames} frames per viewer count, the counts taking turns.")
    table = report.add(harness.Table({"viewers": "d", "FPS": ".1f", "x no viewer": ".2f",
                                      "CPU ms/frame": ".2f", "CPU ms/frame per viewer": ".2f"}))
    with tempfile.TemporaryDirectory() as tmp:
        video = composite_video(faces, Path(tmp) / "four.avi", 300)
        best: dict[int, tuple[float, float]] = {}
        for _ in range(args.repeats):
            for n in VIEWERS:
                fps, cpu = speed(recognizer, video, n, args.frames)
                if n not in best or fps > best[n][0]:
                    best[n] = (fps, cpu)
        base_fps, base_cpu = best[0]
        for n in VIEWERS:
            fps, cpu = best[n]
            print(table.add(n, fps, fps / base_fps, cpu,
                            (cpu - base_cpu) / n if n else None), flush=True)
        report.figures = {"fps": {n: best[n][0] for n in VIEWERS}}
        soaked = report.add(harness.Table(
            {"second": "d", "frames": "d", "open streams": "d", "RSS MB": ".1f"},
            title=f"Soak: {args.soak_s} s at the video's own 30 FPS, up to 4 viewers coming "
                  "and going (half leave with a reset), RSS every "
                  f"{args.every_s} s."))
        soak(recognizer, video, args.soak_s, args.every_s, soaked)
    first, end = soaked.rows[1][3] if len(soaked.rows) > 1 else soaked.rows[0][3], \
        soaked.rows[-1][3]
    report.figures["rss_growth"] = (end - first) / first
    report.add(f"RSS growth from the second sample to the last: "
               f"{100 * (end - first) / first:+.2f}%")
    harness.publish(report, args.out)


if __name__ == "__main__":
    harness.run(main)
