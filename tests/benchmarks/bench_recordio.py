"""The ``kmeans`` built-in trained on the same rows from RecordIO-protobuf and from CSV.

Run on demand (the suite does not), under the shared lock:
``flock /tmp/sagebrush-heavy.lock .venv/bin/python -m tests.benchmarks.bench_recordio
[--rows 1000000] [--rounds 2] [--extra-center-factor auto]``. The RecordIO file is what the
SDK's ``record_set`` uploads (dense float32 ``Record``s, as ``write_numpy_to_dense_tensor`` lays
them out, written here by the platform's own encoder for speed); the CSV holds the same values.
Printed: rows per second of the whole training job (read, ``epochs=1`` of mini-batch k-means with
``k=10`` and ``extra_center_factor`` centres per cluster, the local Lloyd's run that reduces them
to ``k``, save), best and median of the rounds, for each format, and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from algorithms import Channel, parse_hyperparameters, resolve_image
from algorithms.recordio import RECORDIO, encode_record, frame
from tests.fakes import QuietReporter

FEATURES = 50


def _write(folder: Path, rows: int) -> dict[str, Channel]:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(rows, FEATURES)).astype(np.float32)
    (folder / "recordio").mkdir()
    (folder / "csv").mkdir()
    with (folder / "recordio" / "matrix_0.pbr").open("wb") as file:
        for row in features:
            file.write(frame(encode_record({"values": row})))
    np.savetxt(folder / "csv" / "data.csv", features, delimiter=",", fmt="%.7g")
    return {
        "recordio": Channel("train", folder / "recordio", RECORDIO),
        "csv": Channel("train", folder / "csv", "text/csv"),
    }


def _train(channel: Channel, model_dir: Path, extra_center_factor: str) -> float:
    algorithm = resolve_image("kmeans")
    hyperparameters = parse_hyperparameters(
        algorithm,
        {
            "k": "10",
            "feature_dim": str(FEATURES),
            "mini_batch_size": "5000",
            "extra_center_factor": extra_center_factor,
        },
    )
    started = time.perf_counter()
    algorithm().train(
        channels={"train": channel},
        hyperparameters=hyperparameters,
        model_dir=model_dir,
        reporter=QuietReporter(),
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--extra-center-factor", default="auto")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        channels = _write(folder, args.rows)
        timings: dict[str, list[float]] = {name: [] for name in channels}
        for round_number in range(args.rounds):
            for name, channel in channels.items():  # alternating, so load drifts hit both
                model_dir = folder / f"model-{name}-{round_number}"
                timings[name].append(_train(channel, model_dir, args.extra_center_factor))
        for name, seconds in timings.items():
            best, median = min(seconds), statistics.median(seconds)
            print(
                f"{name:9} {args.rows / best:>12,.0f} rows/s best  "
                f"{args.rows / median:>12,.0f} rows/s median  ({best:.1f} s best)"
            )
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"load average at the end: {load} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
