"""Training configuration: every option of `edgefer train`, saved inside each checkpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from edgefer.errors import EdgeferError

OPTIMIZERS = ("adamw", "sgd")
SCHEDULERS = ("cosine", "onecycle", "plateau")
# name -> (rotate degrees, shift fraction, scale fraction, flip probability, erase probability)
AUGMENT_PRESETS = {
    "none": (0.0, 0.0, 0.0, 0.0, 0.0),
    "light": (5.0, 0.05, 0.05, 0.5, 0.0),
    "default": (10.0, 0.1, 0.1, 0.5, 0.25),
    "strong": (15.0, 0.15, 0.15, 0.5, 0.5),
}
DEFAULT_LR = {"adamw": 2e-3, "sgd": 0.05}


@dataclass
class TrainConfig:
    """Options of one training run."""

    data: str
    model: str = "edge-s"  # the defaults are edge-s's recipe (recipes/shipped.sh)
    reparam: bool = False  # train-time parallel branches, fused into the plain model at export
    epochs: int = 30
    batch_size: int = 64
    optimizer: str = "adamw"
    lr: float | None = None  # None: the optimizer's default in DEFAULT_LR
    weight_decay: float = 0.05
    scheduler: str = "cosine"
    warmup_epochs: float = 1.0
    label_smoothing: float = 0.1
    class_weights: bool = False
    augment: str = "default"
    corrupt: float = 0.0  # share of training faces through a random camera corruption
    mixup: float = 0.0  # Beta(alpha, alpha) of mixup's blending weight; 0 = off
    cutmix: float = 0.0  # Beta(alpha, alpha) of CutMix's kept area; 0 = off
    sam: float = 0.0  # sharpness-aware minimization's radius rho (e.g. 0.05); 0 = off
    ema: float = 0.0  # decay of an exponential moving average of the weights, per step; 0 = off
    patience: int = 0  # early stopping: epochs without val improvement; 0 = off
    limit: int | None = None  # train on a stratified subset of this many Training faces
    folds: int = 0  # cross-fitting: Training split into this many folds (FaceSet.folds); 0 = off
    fold: int = 0  # with folds: the fold this run never sees (its teacher's share)
    labels: str = "fer2013"
    skip_bad: bool = False
    seed: int = 0
    device: str = "auto"
    init: str | None = None  # start from these weights (a checkpoint or fp32 ONNX), not random
    teacher: list[str] | None = None  # checkpoints or ONNX models to distil from (averaged)
    teacher_flip: bool = False  # the teachers' targets averaged over the face and its mirror
    teacher_votes: float = 0.0  # weight of FER+ annotators' vote shares, one more teacher
    kd_temperature: float = 4.0
    kd_weight: float = 0.7  # share of the loss that is distillation; the rest is the labels'
    amp: bool = True  # bf16/fp16 autocast where the device computes it natively

    def __post_init__(self) -> None:
        checks = [
            (self.epochs >= 1, "--epochs must be at least 1"),
            (self.batch_size >= 1, "--batch-size must be at least 1"),
            (self.optimizer in OPTIMIZERS, f"--optimizer must be one of {OPTIMIZERS}"),
            (self.scheduler in SCHEDULERS, f"--scheduler must be one of {SCHEDULERS}"),
            (self.augment in AUGMENT_PRESETS, f"--augment must be one of {tuple(AUGMENT_PRESETS)}"),
            (0.0 <= self.corrupt <= 1.0, "--corrupt must be in [0, 1]"),
            (self.mixup >= 0 and self.cutmix >= 0, "--mixup and --cutmix must not be negative"),
            (0.0 <= self.ema < 1.0, "--ema must be in [0, 1)"),
            (self.sam >= 0, "--sam must not be negative"),
            (0.0 <= self.label_smoothing < 1.0, "--label-smoothing must be in [0, 1)"),
            (self.lr is None or self.lr > 0, "--lr must be positive"),
            (self.weight_decay >= 0, "--weight-decay must not be negative"),
            (self.patience >= 0, "--patience must not be negative"),
            (self.limit is None or self.limit >= 7, "--limit must be at least 7 (one per class)"),
            (self.folds == 0 or self.folds >= 2, "--folds must be at least 2 (0: off)"),
            (self.fold == 0 or 0 < self.fold < self.folds,
             f"--fold must be in 0..{self.folds - 1}" if self.folds else "--fold needs --folds"),
            (not (self.reparam and self.init), "--reparam trains from scratch: no --init"),
            (self.teacher or not self.teacher_flip, "--teacher-flip needs --teacher"),
            (0.0 <= self.teacher_votes < 1.0, "--teacher-votes must be in [0, 1)"),
            (self.teacher or not self.teacher_votes, "--teacher-votes needs --teacher"),
            (self.labels == "fer2013" or not self.teacher_votes,
             "--teacher-votes is for the FER2013 labels (ferplus-soft trains on the votes)"),
            (self.kd_temperature > 0, "--kd-temperature must be positive"),
            (0.0 <= self.kd_weight <= 1.0, "--kd-weight must be in [0, 1]"),
            (self.device in ("auto", "cpu") or self.device.startswith("cuda"),
             "--device must be auto, cpu or cuda[:N]"),
        ]
        for ok, message in checks:
            if not ok:
                raise EdgeferError(message)

    @property
    def base_lr(self) -> float:
        return self.lr if self.lr is not None else DEFAULT_LR[self.optimizer]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})
