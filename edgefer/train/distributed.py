"""PyTorch DistributedDataParallel set-up for `torchrun ... -m edgefer train`.

torchrun sets WORLD_SIZE, RANK and LOCAL_RANK; without them training runs in one process.
Backend NCCL on CUDA, gloo on CPU. `--batch-size` stays the global batch: each of the N
processes takes batch_size / N faces per step, so the learning rate needs no rescaling.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from edgefer.errors import EdgeferError


@dataclass(frozen=True)
class World:
    """This process's place among the training processes."""

    size: int = 1
    rank: int = 0
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that writes checkpoints, logs and progress."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum over all processes (the values themselves when alone)."""
        if not self.distributed:
            return values
        t = torch.tensor(values, dtype=torch.float64)
        if dist.get_backend() == "nccl":
            t = t.cuda()
        dist.all_reduce(t)
        return t.cpu().tolist()

    def gather(self, obj: object) -> list:
        """Every process's `obj`, in rank order."""
        if not self.distributed:
            return [obj]
        out: list = [None] * self.size
        dist.all_gather_object(out, obj)
        return out

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()


SINGLE = World()  # one process, no process group


def init_world(device: str) -> World:
    """Join the process group torchrun describes (if any); `device` picks NCCL or gloo."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return SINGLE
    if not dist.is_available():
        raise EdgeferError("this torch build has no torch.distributed")
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    cuda = device != "cpu" and torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    return World(size, rank, local)


def close_world(world: World) -> None:
    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()
