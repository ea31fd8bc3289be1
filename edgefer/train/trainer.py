"""The training loop: one epoch at a time, checkpointed atomically, resumable after a kill."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from edgefer.atomic import atomic_write_text
from edgefer.data import EMOTIONS, FaceSet, load_faces
from edgefer.data.ferplus import vote_shares
from edgefer.errors import EdgeferError
from edgefer.models import count_params, create_model
from edgefer.plots import plot_curves
from edgefer.preprocess import Preprocess
from edgefer.train.augment import Augment, Corrupt, Mix
from edgefer.train.checkpoint import load_checkpoint, save_checkpoint
from edgefer.train.config import AUGMENT_PRESETS, TrainConfig
from edgefer.train.distill import Teacher, kd_loss, with_votes
from edgefer.train.distributed import SINGLE, World
from edgefer.train.precision import autocast_dtype
from edgefer.train.sam import ascended
from edgefer.train.warm_start import read_source, warm_start

WARM_START_FACES = 4096  # Training faces that measure an --init ONNX file's BatchNorm statistics
HISTORY_FIELDS = ("epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "seconds")


def pick_device(name: str, world: World = SINGLE) -> torch.device:
    """`auto` is CUDA when present, else CPU; under torchrun each process takes its own GPU."""
    if name == "auto" or (name == "cuda" and world.distributed):
        if torch.cuda.is_available():
            return torch.device("cuda", world.local_rank if world.distributed else 0)
        if name == "auto":
            return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise EdgeferError(f"--device {name}: this torch build has no CUDA device")
    return torch.device(name)


def lr_factor(cfg: TrainConfig, progress: float) -> float:
    """Multiplier of the base LR at `progress` (0..1 of all steps): linear warm-up, then
    cosine decay; `onecycle` warms up over the first 30%."""
    warm = min(cfg.warmup_epochs / cfg.epochs, 0.5)
    if cfg.scheduler == "onecycle":
        warm = max(warm, 0.3)
    if progress < warm:
        return max(progress / warm, 1e-3)
    return 0.5 * (1 + math.cos(math.pi * (progress - warm) / (1 - warm)))


class Trainer:
    """Trains `cfg.model` on FER2013 Training, validates on PublicTest, writes a run dir.

    Under torchrun (`world.size` > 1) the model is wrapped in DistributedDataParallel, each
    process trains on its DistributedSampler share of every epoch, metrics are summed over
    processes, and only rank 0 writes checkpoints, logs and progress.
    """

    def __init__(self, cfg: TrainConfig, out: Path, console: Console,
                 resume_from: dict | None = None, world: World = SINGLE) -> None:
        self.cfg, self.out, self.world = cfg, out, world
        self.console = console if world.is_main else Console(quiet=True)
        if cfg.batch_size % world.size:
            raise EdgeferError(f"--batch-size {cfg.batch_size} (the global batch) must divide "
                               f"evenly over {world.size} processes")
        self.local_batch = cfg.batch_size // world.size
        self.device = pick_device(cfg.device, world)
        torch.manual_seed(cfg.seed)  # the same initial weights in every process
        self.gen = torch.Generator().manual_seed(cfg.seed + world.rank)  # own augmentations
        # a run keeps the input it began with: a resumed run its checkpoint's, a warm start
        # its source's (the shipped models normalise with mean 0.5), a new run the default
        source = read_source(Path(cfg.init)) if cfg.init and resume_from is None else None
        if resume_from is not None:
            self.spec = Preprocess.from_dict(resume_from["preprocess"])
        else:
            self.spec = source.spec if source else Preprocess()
        faces = load_faces(cfg.data, skip_bad=cfg.skip_bad, labels=cfg.labels)
        if faces.skipped:
            console.print(f"[yellow]skipped {faces.skipped} malformed rows[/]")
        train, val = faces.split("train"), faces.split("val")
        if len(train) == 0 or len(val) == 0:
            raise EdgeferError(f"{cfg.data}: needs Training and PublicTest rows "
                               f"(has {len(train)} and {len(val)})")
        if cfg.folds:  # cross-fitting: this run never sees one fold of Training
            train = train.select(train.folds(cfg.folds) != cfg.fold)
        if cfg.limit:
            train = train.sample(cfg.limit, seed=cfg.seed)
        self.train_set, self.val_set = train, val
        self.x_train, self.y_train = self._tensors(train, soft=True)
        self.x_val, self.y_val = self._tensors(val, soft=False)
        self.model = create_model(cfg.model, len(EMOTIONS), self.spec.channels, cfg.reparam)
        if source is not None and warm_start(self.model, cfg.model, source, list(EMOTIONS),
                                             self.x_train[:WARM_START_FACES]):
            self.console.print(f"widened {source.arch} ({cfg.init}) to {cfg.model}")
        self.model = self.model.to(self.device)
        self.cuda = self.device.type == "cuda"
        if self.cuda:  # the faces fit on any GPU: augment there, no copy per step
            self.x_train, self.y_train = self.x_train.to(self.device), self.y_train.to(self.device)
        # NHWC: faster on CUDA tensor cores and oneDNN CPU kernels alike (fp32 and bf16)
        self.model = self.model.to(memory_format=torch.channels_last)
        self.net = self.model
        if world.distributed:
            from torch.nn.parallel import DistributedDataParallel

            # a 1-channel stem conv's weight gradient comes back with equivalent but different
            # strides; DDP copies it and warns at every step
            warnings.filterwarnings("ignore", message="Grad strides do not match bucket view")

            self.net = DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.cuda else None)
        self.optimizer = self._optimizer()
        self.ema = AveragedModel(self.model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema),
                                 use_buffers=True) if cfg.ema else None
        self.plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self.optimizer, mode="max", factor=0.5, patience=3)
        self.augment = Augment(*AUGMENT_PRESETS[cfg.augment])
        self.mix = Mix(cfg.mixup, cfg.cutmix)
        self.corrupt = Corrupt(cfg.corrupt, self.spec)
        self.weights = self._class_weights(train).to(self.device) if cfg.class_weights \
            else None
        self.amp_dtype, note = autocast_dtype(cfg.amp, self.device)
        if note:
            self.console.print(f"[yellow]{note}[/]")
        self.teacher = Teacher(cfg.teacher, self.spec, list(EMOTIONS), self.device,
                               cfg.teacher_flip, self.amp_dtype) if cfg.teacher else None
        self.train_folds = None  # each training face's fold, for cross-fitted teachers
        if self.teacher is not None and self.teacher.folds is not None:
            if cfg.mixup or cfg.cutmix:
                raise EdgeferError("--mixup and --cutmix blend two faces, and a cross-fitted "
                                   "teacher may have trained on the second: drop one or the other")
            self.train_folds = torch.from_numpy(train.folds(self.teacher.folds)).to(
                self.x_train.device)
        self.votes = torch.from_numpy(vote_shares(train, Path(cfg.data))).to(self.device) \
            if cfg.teacher_votes else None
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.history: list[dict] = []
        self.best = {"epoch": 0, "val_acc": -1.0}
        if resume_from is not None:
            self._restore(resume_from)

    @property
    def evaluated(self) -> torch.nn.Module:
        """The weights validated, kept and exported: the model's own, or their moving average."""
        return self.model if self.ema is None else self.ema.module

    def _tensors(self, faces: FaceSet, soft: bool) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.from_numpy(self.spec(faces.images))
        if soft and faces.targets is not None:
            return x, torch.from_numpy(faces.targets)
        return x, torch.from_numpy(faces.labels)

    def _optimizer(self) -> torch.optim.Optimizer:
        decay, no_decay = [], []
        for p in self.model.parameters():
            (decay if p.ndim > 1 else no_decay).append(p)
        groups = [{"params": decay, "weight_decay": self.cfg.weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}]
        if self.cfg.optimizer == "sgd":
            return torch.optim.SGD(groups, lr=self.cfg.base_lr, momentum=0.9, nesterov=True)
        return torch.optim.AdamW(groups, lr=self.cfg.base_lr)

    @staticmethod
    def _class_weights(train: FaceSet) -> torch.Tensor:
        counts = np.bincount(train.labels, minlength=len(EMOTIONS)).astype(np.float64)
        w = counts.sum() / (len(EMOTIONS) * np.maximum(counts, 1))
        return torch.tensor(w / w.mean(), dtype=torch.float32)

    def _restore(self, ckpt: dict) -> None:
        self.model.load_state_dict(ckpt.get("trained", ckpt["model"]))
        if self.ema is not None:
            self.ema.module.load_state_dict(ckpt["model"])
            self.ema.n_averaged.fill_(ckpt["ema_steps"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.plateau.load_state_dict(ckpt["plateau"])
        self.scaler.load_state_dict(ckpt["scaler"])
        states = ckpt["rng"].get("ranks") or [ckpt["rng"]["generator"]]  # older: one process
        if len(states) == self.world.size:
            self.gen.set_state(states[self.world.rank])
        else:  # resumed with another process count: fresh, distinct augmentation streams
            self.gen.manual_seed(self.cfg.seed + 1000 * len(self.history) + self.world.rank)
            self.console.print(f"[yellow]resumed with {self.world.size} processes instead of "
                               f"{len(states)}: augmentation order differs from the first run[/]")
        torch.set_rng_state(ckpt["rng"]["torch"])
        self.history = list(ckpt["history"])
        self.best = dict(ckpt["best"])

    # ---- the loop -------------------------------------------------------------------------

    def fit(self) -> dict:
        """Train until `epochs` or early stopping; returns the best epoch's record."""
        cfg = self.cfg
        self.console.print(
            f"{cfg.model}: {count_params(self.model):,} parameters, "
            f"{len(self.train_set):,} train / {len(self.val_set):,} val faces, "
            f"device {self.device}, run dir {self.out}")
        for epoch in range(len(self.history) + 1, cfg.epochs + 1):
            if self._should_stop(epoch):
                self.console.print(f"early stop: no val improvement for {cfg.patience} epochs")
                break
            start = time.perf_counter()
            train_loss, train_acc = self._train_epoch(epoch)
            val_loss, val_acc = self.validate()
            if cfg.scheduler == "plateau":
                self.plateau.step(val_acc)
            record = {"epoch": epoch, "lr": self.optimizer.param_groups[0]["lr"],
                      "train_loss": train_loss, "train_acc": train_acc, "val_loss": val_loss,
                      "val_acc": val_acc, "seconds": time.perf_counter() - start}
            self.history.append(record)
            improved = val_acc > self.best["val_acc"]
            if improved:
                self.best = {"epoch": epoch, "val_acc": val_acc}
            generators = self.world.gather(self.gen.get_state())
            if self.world.is_main:
                if improved:
                    save_checkpoint(self.out / "best.pt", self._payload())
                save_checkpoint(self.out / "last.pt", self._payload(generators))
                self._write_logs()
            self.world.barrier()
            self.console.print(
                f"epoch {epoch}/{cfg.epochs}  loss {train_loss:.4f}  train acc {train_acc:.4f}  "
                f"val loss {val_loss:.4f}  val acc {val_acc:.4f}{'  *best*' if improved else ''}  "
                f"({record['seconds']:.1f}s)")
        return self.best

    def _should_stop(self, epoch: int) -> bool:
        return self.cfg.patience > 0 and epoch - 1 - self.best["epoch"] >= self.cfg.patience

    def _train_epoch(self, epoch: int) -> tuple[float, float]:
        cfg, model = self.cfg, self.model
        model.train()
        perm = self._epoch_order(epoch)
        n, batch = len(perm), self.local_batch
        steps = math.ceil(n / batch)
        total_loss, correct = 0.0, 0
        with _progress(self.console, f"epoch {epoch}/{cfg.epochs}", steps) as (bar, task):
            for step in range(steps):
                idx = perm[step * batch:(step + 1) * batch].to(self.x_train.device)
                clean, partner, lam = self.mix(self.augment(self.x_train[idx], self.gen), self.gen)
                x = self.corrupt(clean, self.gen).contiguous(memory_format=torch.channels_last)
                y = self.y_train[idx]
                if cfg.scheduler != "plateau":
                    done = ((epoch - 1) * steps + step) / (cfg.epochs * steps)
                    for group in self.optimizer.param_groups:
                        group["lr"] = cfg.base_lr * lr_factor(cfg, done)
                # the teacher sees the face before the camera's corruption
                soft = None if self.teacher is None else self.teacher.soft_targets(
                    clean, cfg.kd_temperature,
                    None if self.train_folds is None else self.train_folds[idx])
                if self.votes is not None:  # a mixed face's votes mix at the faces' weight
                    votes = self.votes[idx]
                    if partner is not None:
                        votes = lam * votes + (1 - lam) * votes[partner]
                    soft = with_votes(soft, votes, cfg.teacher_votes, cfg.kd_temperature)
                logits, loss = self._forward(x, y, partner, lam, soft)
                self.optimizer.zero_grad(set_to_none=True)
                self.scaler.scale(loss).backward()
                if cfg.sam:  # the step takes the gradient at the weights moved up this one
                    with ascended(self.model, cfg.sam):
                        self.optimizer.zero_grad(set_to_none=True)
                        self.scaler.scale(self._forward(x, y, partner, lam, soft)[1]).backward()
                self.scaler.step(self.optimizer)
                self.scaler.update()
                if self.ema is not None:
                    self.ema.update_parameters(self.model)
                if partner is not None and lam < 0.5:  # the face that dominates the mix
                    y = y[partner]
                hard = y if y.ndim == 1 else y.argmax(1)
                total_loss += loss.item() * len(idx)
                correct += int((logits.argmax(1) == hard).sum())
                seen = min((step + 1) * batch, n)
                bar.update(task, advance=1, info=f"loss {total_loss / seen:.4f} "
                                                 f"acc {correct / seen:.4f}")
        total_loss, correct, n = self.world.sum([total_loss, correct, n])
        return total_loss / n, correct / n

    def _forward(self, x: torch.Tensor, y: torch.Tensor, partner: torch.Tensor | None,
                 lam: float, soft: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and training loss of a batch: the labels' (both at the mixing weight for
        mixed faces) and, with a teacher, its `soft` targets' at the distillation weight."""
        with torch.autocast(self.device.type, dtype=self.amp_dtype,
                            enabled=self.amp_dtype is not None):
            logits = self.net(x)
            loss = self._label_loss(logits, y)
            if partner is not None:
                loss = lam * loss + (1 - lam) * self._label_loss(logits, y[partner])
            if soft is not None:
                loss = (1 - self.cfg.kd_weight) * loss + self.cfg.kd_weight * kd_loss(
                    logits, soft, self.cfg.kd_temperature)
        return logits, loss

    def _label_loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Cross-entropy with the labels (hard or soft), smoothed and weighted as set."""
        return F.cross_entropy(logits.float(), y, label_smoothing=self.cfg.label_smoothing,
                               weight=self.weights)

    def _epoch_order(self, epoch: int) -> torch.Tensor:
        """This process's faces for the epoch: a seeded shuffle of all of them alone, its
        DistributedSampler share (reshuffled every epoch) under torchrun."""
        n = len(self.x_train)
        if not self.world.distributed:
            return torch.randperm(n, generator=self.gen)
        from torch.utils.data import DistributedSampler

        sampler = DistributedSampler(range(n), self.world.size, self.world.rank, shuffle=True,
                                     seed=self.cfg.seed)
        sampler.set_epoch(epoch)
        return torch.tensor(list(sampler))

    @torch.no_grad()
    def validate(self) -> tuple[float, float]:
        """Loss and accuracy on PublicTest (no augmentation, no label smoothing); each process
        takes every world.size-th face and the sums are reduced."""
        model = self.evaluated.eval()
        x, y = self.x_val[self.world.rank::self.world.size], self.y_val[self.world.rank::
                                                                        self.world.size]
        logits = torch.cat([model(xb.to(self.device, memory_format=torch.channels_last))
                            .float().cpu()
                            for xb in x.split(512)])
        loss, correct, n = self.world.sum([
            F.cross_entropy(logits, y, reduction="sum").item(),
            float((logits.argmax(1) == y).sum()), float(len(y))])
        return loss / n, correct / n

    # ---- outputs --------------------------------------------------------------------------

    def _payload(self, generators: list[torch.Tensor] | None = None) -> dict:
        """The checkpoint: weights and run record; with `generators` (every process's
        augmentation RNG) also the state `--resume` needs."""
        payload = {
            "arch": self.cfg.model,
            "labels": list(EMOTIONS),
            "preprocess": self.spec.to_dict(),
            "config": self.cfg.to_dict(),
            "model": _cpu(self.evaluated.state_dict()),
            "epoch": len(self.history),
            "history": self.history,
            "best": self.best,
        }
        if generators is not None and self.ema is not None:  # the optimizer's own weights
            payload |= {"trained": _cpu(self.model.state_dict()),
                        "ema_steps": int(self.ema.n_averaged)}
        if generators is not None:
            payload |= {
                "optimizer": self.optimizer.state_dict(),
                "plateau": self.plateau.state_dict(),
                "scaler": self.scaler.state_dict(),
                "rng": {"ranks": generators, "torch": torch.get_rng_state()},
            }
        return payload

    def _write_logs(self) -> None:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=HISTORY_FIELDS)
        writer.writeheader()
        writer.writerows(self.history)
        atomic_write_text(self.out / "metrics.csv", buf.getvalue())
        plot_curves(self.history, self.out / "curves.png")


def _cpu(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in state.items()}


@contextlib.contextmanager
def _progress(console: Console, title: str, total: int):
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[info]}"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        yield bar, bar.add_task(title, total=total, info="")


def next_run_dir(root: Path, name: str) -> Path:
    """runs/NAME, or runs/NAME2, runs/NAME3... for the first that does not exist yet."""
    candidate, k = root / name, 2
    while candidate.exists():
        candidate, k = root / f"{name}{k}", k + 1
    return candidate


def start_run(cfg: TrainConfig, out: Path | None, console: Console,
              world: World = SINGLE) -> Trainer:
    """A fresh run in `out` (default runs/<model>, numbered when taken; rank 0 decides)."""
    out = Path(world.gather(str(out or next_run_dir(Path("runs"), cfg.model)))[0])
    if (out / "last.pt").exists():
        raise EdgeferError(f"{out} already holds a run: continue it with --resume {out}, "
                           "or pick another --out")
    trainer = Trainer(cfg, out, console, world=world)
    if world.is_main:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "config.json", json.dumps(cfg.to_dict(), indent=2) + "\n")
    return trainer


def resume_run(path: Path, console: Console, epochs: int | None = None,
               world: World = SINGLE) -> Trainer:
    """Continue a run from its `last.pt` (a run dir or the file); `epochs` may extend it."""
    ckpt = load_checkpoint(path, name="last.pt")
    if "optimizer" not in ckpt:
        raise EdgeferError(f"{ckpt['path']}: holds no training state; resume from last.pt")
    cfg = TrainConfig.from_dict(ckpt["config"])
    if epochs is not None:
        cfg.epochs = epochs
    out = Path(ckpt["path"]).parent
    if world.is_main:
        for stale in out.glob(".*.tmp"):  # half-written files of a run killed mid-write
            stale.unlink()
        console.print(f"resuming {out} after epoch {ckpt['epoch']} of {cfg.epochs}")
    return Trainer(cfg, out, console, resume_from=ckpt, world=world)
