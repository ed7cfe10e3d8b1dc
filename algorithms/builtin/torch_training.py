"""What the torch algorithms share: the run's device, CPU threads, seeding, batches and saving.

The device is chosen once per training run (CUDA when ``torch.cuda.is_available()``, else the
CPU) and the whole run stays on it; models are saved with CPU tensors and served on the CPU.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import sparse

from algorithms.base import DataError
from algorithms.data import Dataset

MODEL_FILE = "model.pt"
LIBRARIES = ("torch",)


def training_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def limit_cpu_threads() -> None:
    """Never more intra-op threads than cores this process may run on (cgroups, taskset)."""
    cores = len(os.sched_getaffinity(0))
    if torch.get_num_threads() > cores:
        torch.set_num_threads(cores)


def seed_everything(seed: int | None) -> tuple[int, torch.Generator]:
    """Seed torch's global RNG (parameter initialisation) and return a generator for shuffling.

    An unset seed draws one, so that it can be recorded and the run reproduced.
    """
    seed = secrets.randbelow(2**31) if seed is None else seed
    torch.manual_seed(seed)
    return seed, torch.Generator().manual_seed(seed)


def shuffled_batches(
    rows: int, batch_size: int, generator: torch.Generator
) -> Iterator[torch.Tensor]:
    """Row indices of each mini-batch, a fresh permutation per call (one call per epoch)."""
    yield from torch.randperm(rows, generator=generator).split(batch_size)


def feature_batch(
    features: np.ndarray | sparse.csr_matrix, rows: torch.Tensor | slice, device: torch.device
) -> torch.Tensor:
    """The given rows as a float32 tensor on ``device``; sparse input stays sparse (COO)."""
    if isinstance(rows, torch.Tensor):
        rows = rows.numpy()
    batch = features[rows]
    if sparse.issparse(batch):
        batch = batch.tocoo()
        batch.sum_duplicates()  # sorted and unique, so the tensor can be declared coalesced
        return torch.sparse_coo_tensor(
            torch.from_numpy(np.vstack([batch.row, batch.col]).astype(np.int64)),
            torch.from_numpy(batch.data.astype(np.float32)),
            size=batch.shape,
            device=device,
            is_coalesced=True,
            check_invariants=False,
        )
    return torch.as_tensor(np.ascontiguousarray(batch), dtype=torch.float32, device=device)


def check_binary_labels(dataset: Dataset, *, source: str) -> None:
    labels = dataset.labels
    bad = (labels != 0) & (labels != 1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"label {labels[row]!r} in record {row + 1} is not 0 or 1", source=source)


def save_model(
    model_dir: Path, *, module: torch.nn.Module, architecture: dict[str, Any], **extra: Any
) -> None:
    """One self-contained file: the architecture to rebuild the module, and its weights."""
    model_dir.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().cpu() for name, tensor in module.state_dict().items()}
    torch.save({"architecture": architecture, "state_dict": state, **extra}, model_dir / MODEL_FILE)


def load_saved(model_dir: Path) -> dict[str, Any]:
    # weights_only: a model file is data, never code to run.
    return torch.load(model_dir / MODEL_FILE, map_location="cpu", weights_only=True)
