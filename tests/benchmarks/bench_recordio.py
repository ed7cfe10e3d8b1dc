"""The ``kmeans`` built-in trained on the same rows from RecordIO-protobuf and from CSV.

Run on demand (the suite does not), under the shared lock:
``flock /tmp/sagebrush-heavy.lock .venv/bin/python -m tests.benchmarks.bench_recordio
[--rows 1000000] [--rounds 2]``. The RecordIO file is what the SDK's ``record_set`` uploads
(dense float32 ``Record``s, as ``write_numpy_to_dense_tensor`` lays them out, written here by the
platform's own encoder for speed); the CSV holds the same values. Printed: rows per second of the
whole training job (read, ``epochs=1`` of mini-batch k-means with ``k=10``, save), best and median
of the rounds, for each format.
"""

from __future__ import annotations

import argparse
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


def _train(channel: Channel, model_dir: Path) -> float:
    algorithm = resolve_image("kmeans")
    hyperparameters = parse_hyperparameters(
        algorithm, {"k": "10", "feature_dim": str(FEATURES), "mini_batch_size": "5000"}
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        channels = _write(folder, args.rows)
        timings: dict[str, list[float]] = {name: [] for name in channels}
        for round_number in range(args.rounds):
            for name, channel in channels.items():  # alternating, so load drifts hit both
                timings[name].append(_train(channel, folder / f"model-{name}-{round_number}"))
        for name, seconds in timings.items():
            best, median = min(seconds), statistics.median(seconds)
            print(
                f"{name:9} {args.rows / best:>12,.0f} rows/s best  "
                f"{args.rows / median:>12,.0f} rows/s median  ({best:.1f} s best)"
            )


if __name__ == "__main__":
    main()
