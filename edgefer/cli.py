"""The `edgefer` command line: data -> train -> evaluate -> export -> detect."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgefer import __version__
from edgefer.errors import EdgeferError, installed, require
from edgefer.export.options import ACTIVATION_TYPES, CALIB_METHODS, REDUCE_RANGES, ExportOptions
from edgefer.runtime.defaults import DETECT as D
from edgefer.runtime.defaults import SERVE_ADDRESS, VIDEO_FACE_PX
from edgefer.runtime.formats import BACKENDS, describe_backends, describe_formats
from edgefer.train.config import AUGMENT_PRESETS, DEFAULT_LR, OPTIMIZERS, SCHEDULERS, TrainConfig

if TYPE_CHECKING:
    from edgefer.runtime.recognizer import Recognizer
    from edgefer.runtime.results import FrameResult
    from edgefer.runtime.run import RunSummary
    from edgefer.runtime.sources import FrameSource

# the options' defaults are the library's (train's config, export's options, detect's
# defaults), so the two cannot disagree
C, E = TrainConfig, ExportOptions

# rich_markup_mode=None: help text is plain, so "[openvino]" in an install hint stays visible
app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="Facial emotion recognition: train on FER2013, export int8 ONNX, "
                       "run on small CPUs.")
data_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                       help="Inspect FER2013 datasets and pack compact copies.")
app.add_typer(data_app, name="data")
visualize_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                            help="Look inside a model: feature maps, Grad-CAM.")
app.add_typer(visualize_app, name="visualize")
console = Console(stderr=True)

DataOpt = Annotated[Path | None, typer.Option(
    "--data", help="FER2013 .csv, .npz or image-folder root (default: $EDGEFER_DATA)")]
RunDataOpt = Annotated[Path | None, typer.Option(
    "--data", help="FER2013 .csv, .npz or image-folder root (default: the data the run was "
                   "trained on, else $EDGEFER_DATA)")]
SkipBadOpt = Annotated[bool, typer.Option(
    "--skip-bad", help="Drop malformed rows and report how many, instead of failing.")]
FlipOpt = Annotated[bool, typer.Option(
    "--flip-tta", help="Average each face with its mirror image (about +0.5 val points, "
                       "two inferences per face).")]
BackendOpt = Annotated[str, typer.Option(
    help=describe_backends() + "; without --model, the shipped model that backend runs.")]
LabelsOpt = Annotated[str, typer.Option(
    help="fer2013 (original), ferplus (FER+ majority) or ferplus-soft (FER+ vote shares).")]


def _version(value: bool) -> None:
    if value:
        print(f"edgefer {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")]
          = False) -> None:
    """Facial emotion recognition: train on FER2013, export int8 ONNX, run on small CPUs."""


@data_app.command("info")
def data_info(path: Annotated[Path | None, typer.Argument(
        help="Dataset path (default: $EDGEFER_DATA)")] = None,
              skip_bad: SkipBadOpt = False, labels: LabelsOpt = "fer2013") -> None:
    """Print face counts per split and class, and cross-split duplicates."""
    from edgefer.data import EMOTIONS, SPLITS, load_faces, resolve_data

    path = resolve_data(path)
    faces = load_faces(path, skip_bad=skip_bad, labels=labels)
    counts = faces.counts()
    table = Table(title=f"{path} ({labels} labels)")
    table.add_column("split")
    for name in (*EMOTIONS, "total"):
        table.add_column(name, justify="right")
    for i, split in enumerate(SPLITS):
        table.add_row(split, *(f"{c:,}" for c in counts[i]), f"{counts[i].sum():,}")
    table.add_row("all", *(f"{c:,}" for c in counts.sum(0)), f"{counts.sum():,}", style="bold")
    Console().print(table)
    train = faces.split("train")
    for split in ("val", "test"):
        dup = int(faces.split(split).seen_in(train).sum())
        print(f"{split}: {dup} faces have an exact copy in train")
    if faces.skipped:
        print(f"skipped {faces.skipped} malformed rows")


@data_app.command("pack")
def data_pack(
    out: Annotated[Path, typer.Argument(help="New folder to write (Kaggle image-folder layout).")],
    data: DataOpt = None,
    splits: Annotated[str, typer.Option(
        help="Comma-separated splits to write: train, val, test.")] = "train,val",
    fmt: Annotated[str, typer.Option("--format", help="webp or png (both lossless).")] = "webp",
) -> None:
    """Write chosen splits as lossless images in a folder `--data` reads: a compact copy of
    FER2013 to carry to another machine (Training + PublicTest as WebP: about 53 MB)."""
    from rich.progress import Progress

    from edgefer.data import load_faces, resolve_data
    from edgefer.data.writers import write_folder

    names = [s.strip() for s in splits.split(",") if s.strip()]
    if not names:
        raise EdgeferError("--splits: name at least one of train, val, test")
    faces = load_faces(resolve_data(data)).split(*names)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"writing {out}", total=len(faces))
        size = write_folder(faces, out, fmt, advance=lambda: bar.advance(task))
    print(f"{len(faces):,} faces ({', '.join(names)}) -> {out}: {size / 1e6:.1f} MB of {fmt}")


@app.command("models")
def models_cmd() -> None:
    """List the trainable architectures with parameters and MACs per 48x48 image."""
    require("torch")
    from edgefer.models import count_macs, count_params, create_model, list_models

    table = Table()
    for col, justify in (("name", "left"), ("params", "right"), ("MACs", "right"),
                         ("description", "left")):
        table.add_column(col, justify=justify)
    for name, doc in list_models().items():
        model = create_model(name)
        table.add_row(name, f"{count_params(model):,}", f"{count_macs(model) / 1e6:.1f}M", doc)
    Console().print(table)


@app.command()
def train(
    data: DataOpt = None,
    model: Annotated[str, typer.Option(help="Architecture (see `edgefer models`).")] = C.model,
    epochs: Annotated[int | None, typer.Option(help=f"Epochs to train (default: {C.epochs}).")]
        = None,
    batch_size: Annotated[int, typer.Option(help="Faces per step.")] = C.batch_size,
    optimizer: Annotated[str, typer.Option(help=" or ".join(OPTIMIZERS) + ".")] = C.optimizer,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate (" + ", ".join(
        f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + ").")] = C.lr,
    weight_decay: Annotated[float, typer.Option(help="Decoupled weight decay.")]
        = C.weight_decay,
    scheduler: Annotated[str, typer.Option(help=", ".join(SCHEDULERS) + ".")] = C.scheduler,
    warmup_epochs: Annotated[float, typer.Option(help="Linear warm-up length.")]
        = C.warmup_epochs,
    label_smoothing: Annotated[float, typer.Option(help="Label smoothing.")] = C.label_smoothing,
    class_weights: Annotated[bool, typer.Option(help="Weight the loss by inverse class frequency.")]
        = C.class_weights,
    reparam: Annotated[bool, typer.Option(
        help="Train each 3x3 block with parallel 1x1 and identity branches (RepVGG), fused "
             "into the plain model at export: same graph and speed.")] = C.reparam,
    augment: Annotated[str, typer.Option(help=", ".join(AUGMENT_PRESETS) + ".")] = C.augment,
    corrupt: Annotated[float, typer.Option(
        help="Share of training faces passed through a random camera corruption (exposure, "
             "contrast, blur, JPEG, low resolution, noise); a --teacher sees the clean face.")]
        = C.corrupt,
    mixup: Annotated[float, typer.Option(
        help="mixup: blend each face with another of the batch, weight ~ Beta(A, A) "
             "(e.g. 0.2); the loss takes both labels. 0: off.")] = C.mixup,
    cutmix: Annotated[float, typer.Option(
        help="CutMix: paste a box of another face, kept area ~ Beta(A, A) (e.g. 1.0); with "
             "--mixup, one of the two per batch. 0: off.")] = C.cutmix,
    sam: Annotated[float, typer.Option(
        help="Sharpness-aware minimization: each step's gradient taken at the weights moved "
             "RHO up their gradient (e.g. 0.05); twice the compute. 0: off.")] = C.sam,
    patience: Annotated[int, typer.Option(help="Early stop after N epochs without val gain "
                                               "(0 = off).")] = C.patience,
    limit: Annotated[int | None, typer.Option(help="Train on a stratified subset of N faces.")]
        = C.limit,
    folds: Annotated[int, typer.Option(
        help="Cross-fitting: split Training into K folds (fixed by each face's pixels) and "
             "train without --fold; K such runs, one per fold, distil as --teacher together, "
             "each teaching only the faces it never saw. 0: off.")] = C.folds,
    fold: Annotated[int, typer.Option(help="With --folds: the fold (0..K-1) left out.")]
        = C.fold,
    labels: LabelsOpt = C.labels,
    skip_bad: SkipBadOpt = C.skip_bad,
    seed: Annotated[int, typer.Option(help="Random seed (data order, augmentation, init).")]
        = C.seed,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda[:N].")] = C.device,
    amp: Annotated[bool, typer.Option(help="Mixed precision: bf16 on CUDA and on CPUs "
                                           "where it is faster (AMX, Arm BF16, AMD AVX512-BF16); "
                                           "fp32 elsewhere.")]
        = C.amp,
    init: Annotated[Path | None, typer.Option(
        help="Start from these weights, not random: a checkpoint, run dir or the fp32 .onnx "
             "edgefer exported (same --model), e.g. edgefer/assets/edge.onnx.")] = None,
    teacher: Annotated[str | None, typer.Option(
        help="Distil from these trained models: checkpoints or .onnx, comma-separated "
             "(their probabilities are averaged).")] = None,
    teacher_flip: Annotated[bool, typer.Option(
        help="Average the teachers' targets over the face and its mirror image.")]
        = C.teacher_flip,
    teacher_votes: Annotated[float, typer.Option(
        help="Weight of the FER+ annotators' vote shares (fer2013new.csv beside the data) "
             "beside the teachers' average in the targets; 0: off.")] = C.teacher_votes,
    kd_temperature: Annotated[float, typer.Option(help="Distillation temperature.")]
        = C.kd_temperature,
    ema: Annotated[float, typer.Option(
        help="Validate, keep and export an exponential moving average of the weights, with "
             "this decay per step (e.g. 0.999); 0: off.")] = C.ema,
    kd_weight: Annotated[float, typer.Option(
        help="Share of the loss from the teachers (the rest from the labels).")] = C.kd_weight,
    out: Annotated[Path | None, typer.Option(help="Run directory (default: runs/MODEL, "
                                                  "numbered).")] = None,
    resume: Annotated[Path | None, typer.Option(
        help="Continue a killed run (its dir or last.pt) with its saved options; "
             "--epochs may extend it.")] = None,
) -> None:
    """Train a model on FER2013 Training, choosing checkpoints on PublicTest (val).

    Several processes or machines: `torchrun --nproc-per-node N -m edgefer train ...`
    (DistributedDataParallel; --batch-size is the global batch).
    """
    require("torch")
    from edgefer.data import resolve_data
    from edgefer.train.distributed import close_world, init_world
    from edgefer.train.trainer import resume_run, start_run

    world = init_world(device)
    try:
        if resume is not None:
            trainer = resume_run(resume, console, epochs, world)
        else:
            from edgefer.models import list_models

            if model not in list_models():
                raise EdgeferError(f"unknown model {model!r}: choose one of "
                                   f"{', '.join(list_models())}")
            teachers = None
            if teacher:
                teachers = [str(Path(t).expanduser().resolve()) for t in teacher.split(",")]
            cfg = TrainConfig(
                data=str(resolve_data(data).resolve()), model=model,
                epochs=C.epochs if epochs is None else epochs, batch_size=batch_size,
                optimizer=optimizer, lr=lr, weight_decay=weight_decay, scheduler=scheduler,
                warmup_epochs=warmup_epochs, label_smoothing=label_smoothing,
                class_weights=class_weights, augment=augment, corrupt=corrupt, ema=ema,
                mixup=mixup, cutmix=cutmix, sam=sam,
                reparam=reparam, patience=patience, limit=limit, folds=folds, fold=fold,
                labels=labels, skip_bad=skip_bad, seed=seed, device=device, amp=amp,
                init=str(init.expanduser().resolve()) if init else None,
                teacher=teachers, teacher_flip=teacher_flip, teacher_votes=teacher_votes,
                kd_temperature=kd_temperature, kd_weight=kd_weight)
            trainer = start_run(cfg, out, console, world)
        best = trainer.fit()
    finally:
        close_world(world)
    if world.is_main:
        console.print(f"best val acc {best['val_acc']:.4f} at epoch {best['epoch']}: "
                      f"{trainer.out / 'best.pt'}")


@app.command()
def evaluate(
    model: Annotated[list[Path] | None, typer.Argument(
        help="Checkpoint (.pt or run dir), exported model (.onnx, .xml, .param, .tflite) or "
             "shipped model name (edge, the default; edge-s); several are an ensemble: their "
             "probabilities are averaged.")]
        = None,
    data: DataOpt = None,
    split: Annotated[str, typer.Option(help="train, val (PublicTest) or test (PrivateTest).")]
        = "test",
    labels: LabelsOpt = "fer2013",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Write the confusion matrix as PNG.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the split's first N faces.")] = None,
    predictions: Annotated[Path | None, typer.Option(
        help="Write each face's row, label, prediction and probabilities as CSV.")] = None,
    flip_tta: FlipOpt = False,
    skip_bad: SkipBadOpt = False,
    backend: BackendOpt = "auto",
) -> None:
    """Accuracy, macro F1, per-class metrics and confusion matrix on one split."""
    from edgefer.data import resolve_data
    from edgefer.evaluate import evaluate as run_evaluate
    from edgefer.metrics import format_report
    from edgefer.runtime.assets import resolve_model

    models = [resolve_model(m, backend) for m in model or [None]]
    result = run_evaluate(models, resolve_data(data), split, labels, skip_bad, limit,
                          predictions, flip_tta, backend)
    if plot is not None:
        from edgefer.plots import plot_confusion

        name = " + ".join(m.name for m in models)
        plot_confusion(result["confusion"], list(result["per_class"]), plot,
                       f"{name} on {split} (accuracy {result['accuracy']:.3f})")
    print(json.dumps(result) if as_json else format_report(result))


@app.command("export")
def export_cmd(
    source: Annotated[Path, typer.Argument(
        help="Run directory (uses best.pt), checkpoint, or an fp32 edgefer .onnx to quantize "
             "again.")],
    out: Annotated[Path | None, typer.Option(help="Output directory (default: RUN/export).")]
        = None,
    int8: Annotated[bool, typer.Option("--int8", help="Also write the static int8 QDQ "
                                                      "model.int8.onnx.")] = E.int8,
    data: RunDataOpt = None,
    calib_size: Annotated[int, typer.Option(help="Training faces to calibrate on (stratified).")]
        = E.calib_size,
    calib_method: Annotated[str, typer.Option(help=", ".join(CALIB_METHODS) + ".")]
        = E.calib_method,
    activations: Annotated[str, typer.Option(
        help="int8 activation type: " + " or ".join(ACTIVATION_TYPES) + ".")] = E.activations,
    max_drop: Annotated[float, typer.Option(help="Fail if int8 loses more val accuracy "
                                                 "(points).")] = E.max_drop,
    seed: Annotated[int, typer.Option(help="Calibration sample seed.")] = E.seed,
    latency_runs: Annotated[int, typer.Option(help="Timed runs per model.")] = E.latency_runs,
    reduce_range: Annotated[str, typer.Option(
        help="Which int8 weights keep to 7 bits: stem (the first convolution, whose "
             "image input saturates the int8 kernels of x86 CPUs without VNNI at full "
             "range), all or none.", metavar="|".join(REDUCE_RANGES))] = E.reduce_range,
    fmt: Annotated[list[str] | None, typer.Option(
        "--format", help="Also convert to " + describe_formats()
        + "; repeatable. ONNX is always written.")] = None,
    val_only: Annotated[bool, typer.Option(
        "--val-only", help="Measure accuracy on val alone, the test split unread (an A/B "
                           "arm: test is read once per shipped candidate).")] = E.val_only,
) -> None:
    """Export a checkpoint to ONNX (fp32, and int8 calibrated on FER2013 Training faces)."""
    require("torch")
    require("onnx")
    from edgefer.data import resolve_data
    from edgefer.export import export_model
    from edgefer.export.report import print_report

    if out is None:
        out = (source if source.is_dir() else source.parent) / "export"
    opts = ExportOptions(int8=int8, calib_size=calib_size, calib_method=calib_method,
                         activations=activations, max_drop=max_drop, seed=seed,
                         latency_runs=latency_runs, reduce_range=reduce_range,
                         formats=("onnx", *(fmt or [])), val_only=val_only)
    report = export_model(source, out, resolve_data(data, source), opts)
    print_report(report)
    if not report.passed:
        raise EdgeferError(
            f"int8 loses {report.comparison.val_drop_points:.2f} val points "
            f"(> --max-drop {max_drop}); "
            f"model.int8.onnx not written. Try --calib-method entropy or percentile, "
            f"or quantization-aware fine-tuning")


@app.command()
def detect(
    source: Annotated[str | None, typer.Option(
        help="Image, directory of images, video file or stream URL.")] = None,
    camera: Annotated[int | None, typer.Option(help="Camera index (e.g. 0).")] = None,
    model: Annotated[Path | None, typer.Option(
        help="Exported .onnx, OpenVINO .xml, ncnn .param or LiteRT .tflite, or a shipped "
             "model's name: edge "
             "(the default) or edge-s (faster).")]
        = None,
    detector: Annotated[str | None, typer.Option(
        help="YuNet .onnx, or 'none' to treat each image as one face (default: "
             "$EDGEFER_DETECTOR, else the YuNet shipped in the package).")] = None,
    backend: BackendOpt = D.backend,
    threads: Annotated[int | None, typer.Option(help="Inference threads (default: all).")]
        = D.threads,
    min_face: Annotated[int, typer.Option(
        help="Smallest face side to find and report, in frame pixels (video is detected at "
             "the size that finds it: smaller means slower).")] = D.min_face,
    score: Annotated[float, typer.Option(
        help="Face detection score threshold (video looks for new faces at 5/6 of it and "
             "keeps one only if the next detection finds it again).")] = D.score,
    det_size: Annotated[int | None, typer.Option(
        help="Longer side frames are scaled to (down or up) for one whole-frame face "
             "detection pass (default: images on a pyramid of sizes that finds faces from 64 "
             "px to the whole image; video and cameras: the first frame on the pyramid from "
             "--min-face up, later searches at the size that puts a --min-face face at "
             f"{VIDEO_FACE_PX} px in the detector's input).")] = D.det_size,
    margin: Annotated[float, typer.Option(
        help="Crop margin around the face box, a share of its side (chosen on val).")]
        = D.margin,
    align: Annotated[bool, typer.Option(help="Rotate crops so the eyes are level.")] = D.align,
    smoothing: Annotated[float, typer.Option(
        help="Video: weight of a face's previous probabilities at each classification "
             "(0 = none).")] = D.smoothing,
    as_json: Annotated[bool, typer.Option(
        "--json", help="One JSON line per frame on stdout (schema: edgefer.runtime.records).")]
        = False,
    csv: Annotated[Path | None, typer.Option(
        help="Write one CSV row per face per frame (frame, time_s, track_id, box, emotion, "
             "confidence, probabilities); a frame without a face is an empty-faced row.")]
        = None,
    summary: Annotated[bool, typer.Option(
        "--summary", help="At the end, print each tracked face's dwell time and emotion "
                          "shares.")] = False,
    timeline: Annotated[Path | None, typer.Option(
        help="At the end, write each track's emotion probabilities over time as a PNG.")]
        = None,
    save: Annotated[Path | None, typer.Option(
        help="Annotated output: image file, directory (several images) or .mp4/.avi/.mkv.")]
        = None,
    show: Annotated[bool, typer.Option("--show", help="Show a window (needs a display).")]
        = False,
    serve: Annotated[str | None, typer.Option(
        metavar="HOST:PORT", help="Serve a live page of the annotated video, emotions, FPS and a "
        "one-minute chart, with /stream.mjpg, /events (the --json records) and /healthz, e.g. "
        f"{SERVE_ADDRESS}; any address but the loopback needs --token. A file plays at its "
        "own speed.")] = None,
    token: Annotated[str | None, typer.Option(
        help="Token every --serve request must carry (Authorization: Bearer, or ?token=); "
             "'auto' makes one and prints the page's address with it once.")] = None,
    loop: Annotated[bool, typer.Option(
        "--loop", help="Start a video file or images again at their end (demos).")] = False,
    max_frames: Annotated[int | None, typer.Option(help="Stop after N frames.")] = None,
    reconnect: Annotated[int, typer.Option(
        help="Camera/stream: times to reopen a source that stops sending frames.")]
        = D.reconnect,
    flip_tta: FlipOpt = D.flip_tta,
    detect_every: Annotated[int, typer.Option(
        metavar="N", help="Video and cameras: detect and classify on every Nth frame, "
                          "tracked faces carried forward in between (1 = every frame). Still "
                          "images are always detected.")] = D.detect_every,
    search_every: Annotated[int, typer.Option(
        metavar="N", help="Video and cameras: search the whole frame for new faces on every "
                          "Nth detection frame (1 = each); the others look only where tracked "
                          "faces are expected, upscaled.")] = D.search_every,
    keep: Annotated[int, typer.Option(
        metavar="N", help="Video: a face tracked through two or more detections is still "
                          "reported when up to N detections in a row miss it (0 = off).")]
        = D.keep,
    detector_engine: Annotated[str, typer.Option(
        help="Run YuNet through onnxruntime (ort) or OpenCV (opencv): the same faces.")]
        = D.detector_engine,
) -> None:
    """Detect faces and classify their emotions in images, video, streams or a camera."""
    from edgefer.runtime.recognizer import Recognizer
    from edgefer.runtime.serve import LiveServer, parse_address, resolve_token
    from edgefer.runtime.sources import FrameSource

    if serve is None and token is not None:
        raise EdgeferError("--token protects --serve: give --serve HOST:PORT too")
    if serve is not None:
        resolve_token(parse_address(serve)[0], token)  # a bad address or missing token first
    frames = FrameSource(source, camera, reconnect, on_skip=_warn, loop=loop)  # camera first
    recognizer = Recognizer(model, detector, backend=backend, threads=threads,
                            det_size=det_size, min_face=min_face, score=score, margin=margin,
                            align=align, smoothing=smoothing, flip_tta=flip_tta,
                            detect_every=detect_every, keep=keep, search_every=search_every,
                            detector_engine=detector_engine)
    live = None if serve is None else LiveServer(serve, token, info={
        "model": str(recognizer.classifier.path), "backend": recognizer.classifier.backend})
    stills = not frames.is_video and not as_json and live is None
    quiet = as_json or live is not None or loop
    with contextlib.ExitStack() as stack:
        if live is not None:
            stack.enter_context(live)
            shown = live.url if token == "auto" else live.address  # a given secret stays unsaid
            console.print(f"serving {shown}  (Ctrl-C to stop)", highlight=False, markup=False)
        done = _run(recognizer, frames, stills, quiet, save=save, csv=csv,
                    json=sys.stdout if as_json else None, show=show, serve=live,
                    max_frames=max_frames)
        if live is not None and not done.interrupted:
            console.print("the source ended; serving its last frame (Ctrl-C to stop)",
                          highlight=False)
            _wait_for_stop()
    _report(done, frames.is_video, summary, timeline)


def _wait_for_stop() -> None:
    """Block until Ctrl-C or SIGTERM."""
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT,
                                                                    signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _run(recognizer: Recognizer, frames: FrameSource, stills: bool, quiet: bool,
         **outputs: object) -> RunSummary:
    """`recognizer.run` with a progress bar over a video file, or a line per still image."""
    with _progress(frames.frames_total if frames.is_video and not quiet else None) as tick:

        def each(result: FrameResult, fps: float | None) -> None:
            if stills:
                found = ", ".join(f"{f.emotion} {f.confidence:.2f} at {list(f.box)}"
                                  for f in result.faces) or "no face"
                print(f"{result.source}: {found}", flush=True)
            tick()

        return recognizer.run(frames, on_frame=each, **outputs)


def _report(done: RunSummary, is_video: bool, summary: bool, timeline: Path | None) -> None:
    """What a detect run wrote and measured; exit status 130 when interrupted."""
    for name, path in done.outputs.items():
        console.print(f"{name}: {done.frames} frame(s) -> {path}", highlight=False)
    if is_video:
        console.print(f"{done.frames} frames in {done.wall_s:.1f} s ({done.fps:.1f} FPS)",
                      highlight=False)
    if summary:
        print(done.format())
    if timeline is not None and done.frames:
        console.print(f"timeline -> {done.plot_timeline(timeline)}", highlight=False)
    if done.interrupted:
        console.print(f"interrupted after {done.frames} frames", highlight=False)
        raise typer.Exit(130)


@contextlib.contextmanager
def _progress(total: int | None) -> Iterator[Callable[[], None]]:
    """A transient progress bar over a video's frames (on a terminal), as a tick function."""
    if total is None or not console.is_terminal:
        yield lambda: None
        return
    from rich.progress import Progress

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("frames", total=total)
        yield lambda: bar.advance(task)


@app.command()
def summarize(
    records: Annotated[Path, typer.Argument(help="A CSV that `edgefer detect --csv` wrote.")],
    timeline: Annotated[Path | None, typer.Option(
        help="Also write each track's emotion probabilities over time as a PNG.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Per-track dwell time and emotion shares of a detection CSV, and its timeline plot."""
    from edgefer.runtime.records import read_csv
    from edgefer.runtime.summary import format_summary
    from edgefer.runtime.summary import summarize as summarize_tracks
    from edgefer.runtime.timeline import plot_timeline

    labels, rows = read_csv(records)
    tracks = summarize_tracks(rows, labels)
    frames = len({r.frame for r in rows})
    if as_json:
        print(json.dumps({"frames": frames, "tracks": [t.to_json() for t in tracks]}))
    else:
        print(format_summary(tracks, labels, frames))
    if timeline is not None:
        console.print(f"timeline -> {plot_timeline(rows, labels, timeline)}", highlight=False)


def _warn(message: str) -> None:
    """A problem `detect` skips and carries on from: one line on stderr."""
    console.print(f"warning: {escape(message)}", highlight=False, soft_wrap=True)


@app.command()
def bench(
    model: Annotated[list[Path] | None, typer.Option(
        help="Exported model (.onnx, .xml, .param, .tflite) or shipped model name to measure; "
             "repeat for several (default: every shipped model's fp32 ONNX, ncnn, int8 LiteRT "
             "and int8 ONNX files).")]
        = None,
    checkpoint: Annotated[Path | None, typer.Option(
        help="Also run this checkpoint in PyTorch eager mode.")] = None,
    peers: Annotated[Path | None, typer.Option(
        help="Directory holding the peer models (default: $EDGEFER_PEERS).")] = None,
    data: DataOpt = None,
    detector: Annotated[Path | None, typer.Option(help="YuNet .onnx (as for detect).")] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Reduced set, under 2 minutes.")]
        = False,
    backend: Annotated[list[str] | None, typer.Option(
        help="Only these backends for our models (repeatable): "
             + ", ".join(BACKENDS[1:]) + ".")] = None,
    as_json: Annotated[Path | None, typer.Option("--json", help="Write every figure here.")]
        = None,
    markdown: Annotated[Path | None, typer.Option(help="Write the tables as markdown.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Write accuracy vs latency as PNG.")] = None,
) -> None:
    """Accuracy and latency of our models and peer models across backends and threads."""
    import os

    from edgefer.atomic import atomic_write_text
    from edgefer.bench import report
    from edgefer.bench.suite import BenchOptions, run_suite
    from edgefer.data import resolve_data
    from edgefer.runtime.assets import resolve_model, shipped_models
    from edgefer.runtime.face_detector import resolve_detector

    models = [resolve_model(m) for m in model] if model else shipped_models()
    for path in models:
        if not path.is_file():
            raise EdgeferError(f"model not found: {path}")
    peers = peers or (Path(os.environ["EDGEFER_PEERS"]) if os.environ.get("EDGEFER_PEERS")
                      else None)
    if peers is None:
        console.print("peer models skipped: pass --peers DIR or set EDGEFER_PEERS")
    elif not peers.is_dir():
        raise EdgeferError(f"peer model directory not found: {peers}")
    if checkpoint is not None and not installed("torch"):
        console.print(f"torch is not installed: checkpoint {checkpoint} skipped "
                      "(pip install 'edgefer[train]')", markup=False)
        checkpoint = None
    opts = BenchOptions(models, resolve_data(data), checkpoint, peers,
                        resolve_detector(detector), quick, backend)
    results = run_suite(opts, console)
    out = Console()
    if not out.is_terminal:
        out = Console(width=200)
    for table in report.tables(results):
        out.print(table)
    if as_json is not None:
        atomic_write_text(as_json, json.dumps(results.to_dict(), indent=2) + "\n")
    if markdown is not None:
        report.write_markdown(results, markdown)
    if plot is not None:
        report.plot(results, plot)


ModelArg = Annotated[Path, typer.Argument(help="Checkpoint (.pt or run dir) or fp32 .onnx.")]
ImageOpt = Annotated[Path | None, typer.Option(help="A photo or face image.")]
VisDetectorOpt = Annotated[str | None, typer.Option(
    help="YuNet .onnx for photos (as for detect), or 'none' to use the whole image.")]


@visualize_app.command("feature-maps")
def feature_maps_cmd(
    model: ModelArg,
    out: Annotated[Path, typer.Option(help="Directory for one PNG per layer.")],
    image: ImageOpt = None,
    sample: Annotated[str | None, typer.Option(
        help="Instead of --image: the first FER2013 test face of this emotion.")] = None,
    layers: Annotated[str | None, typer.Option(
        help="Comma-separated layers, e.g. conv1,pool2 (default: all).")] = None,
    detector: VisDetectorOpt = None,
    data: RunDataOpt = None,
) -> None:
    """Every channel of each convolution and pooling layer for one face, one PNG per layer."""
    require("matplotlib")
    from edgefer.visualize.faces import photo_faces, sample_face
    from edgefer.visualize.features import inspect, pick_layers
    from edgefer.visualize.figures import plot_feature_map

    if (image is None) == (sample is None):
        raise EdgeferError("give exactly one of --image or --sample")
    if image is not None:
        name, face = photo_faces(image, detector)[0]
    else:
        from edgefer.data import resolve_data

        name, face = sample_face(sample, resolve_data(data, model))
    if model.suffix != ".onnx":
        require("torch")
    seen = inspect(model, face)
    picked = pick_layers(seen.layers, layers.split(",") if layers else None)
    k = int(seen.probs.argmax())
    label = f"{name}: {seen.labels[k]} {seen.probs[k]:.2f}"
    for i, fm in enumerate(picked):
        plot_feature_map(fm, out / f"{i:02d}_{fm.name}.png", label)
    console.print(f"{len(picked)} layer(s) of {model} for {label} -> {out}")


@visualize_app.command("gradcam")
def gradcam_cmd(
    model: Annotated[Path, typer.Argument(help="Checkpoint (.pt or run dir).")],
    image: Annotated[Path, typer.Option(help="A photo (one row per detected face) or a face.")],
    out: Annotated[Path, typer.Option(help="PNG to write.")],
    target: Annotated[str | None, typer.Option(
        help="Also explain this emotion, beside the predicted one.")] = None,
    detector: VisDetectorOpt = None,
) -> None:
    """Grad-CAM heatmaps over each face for its predicted emotion (and --target)."""
    require("torch")
    require("matplotlib")
    from edgefer.visualize.faces import photo_faces
    from edgefer.visualize.figures import plot_gradcam
    from edgefer.visualize.gradcam import GradCam

    cam = GradCam(model)
    rows = []
    for name, face in photo_faces(image, detector):
        rows.append((name, face, [cam(face)] + ([cam(face, target)] if target else [])))
    plot_gradcam(rows, out)
    console.print(f"Grad-CAM for {len(rows)} face(s) -> {out}")


@app.command()
def report(
    run: Annotated[Path, typer.Argument(help="Training run directory.")],
    out: Annotated[Path | None, typer.Option(help="HTML file (default: RUN/report.html).")]
        = None,
    split: Annotated[str, typer.Option(help="Split the evaluation sections use (val = "
                                            "PublicTest; test only to report).")] = "val",
    data: RunDataOpt = None,
) -> None:
    """One self-contained HTML page: curves, confusion, per-class accuracy, mistakes,
    feature maps and the export report."""
    require("torch")
    require("matplotlib")
    from edgefer.data import resolve_data
    from edgefer.visualize.report import build_report

    summary = build_report(run, out or run / "report.html", resolve_data(data, run), split)
    console.print(f"report ({len(summary.sections)} sections, {summary.images} images, "
                  f"{split} accuracy {summary.accuracy:.4f}) -> {summary.out}")


def main() -> None:
    """Console-script entry point: user errors become one line on stderr and exit code 2."""
    try:
        app()
    except EdgeferError as e:
        console.print(f"[red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)
