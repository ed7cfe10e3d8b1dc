"""S3 API benchmark: a large object through boto3's multipart transfer, and small objects with
concurrent clients, against the web server as the stack runs it.

    .venv/bin/python -m tests.benchmarks.bench_s3 [--size-mb 1024] [--small 2000] [--clients 8]

One run starts ``infra.web`` (two workers) over a fresh ``DATA_DIR``, makes a user and access key,
then prints:

- ``copy``: a plain file copy of the same bytes on the same disk (read, write, fsync), the
  yardstick;
- ``put`` / ``get``: ``upload_file`` / ``download_file`` of that file through the S3 API with
  boto3's default transfer settings (8 MiB parts, 10 threads), as MB/s and as a share of the copy;
- the web workers' RSS growth (largest growth of any worker over its size before the transfers);
- ``small``: 1 KiB puts, then gets, per second with ``--clients`` client processes, and the CPU
  each request cost the web workers and the clients (whose figure includes starting boto3).

The machine's other load shows in the figures: run it on an idle machine for numbers to quote.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {port}")


def prepare(data_dir: Path) -> tuple[str, str]:
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from console.accounts.services import access_key_create

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user(username="bench", password="bench bench 9")
    key = access_key_create(user=user)
    return key.access_key_id, key.secret_access_key


def client(url: str, key_id: str, secret: str):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(max_pool_connections=16),
    )


def make_file(path: Path, size: int) -> None:
    block = os.urandom(MIB)
    with open(path, "wb") as out:
        for _ in range(size // MIB):
            out.write(block)
        out.flush()
        os.fsync(out.fileno())


def plain_copy(source: Path, target: Path) -> float:
    started = time.perf_counter()
    with open(source, "rb") as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, 8 * MIB)
        dst.flush()
        os.fsync(dst.fileno())
    return time.perf_counter() - started


class RssWatch:
    """The largest RSS each web worker (children of the server process) reaches."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.server = psutil.Process(pid)
        self.baseline = self._sample()
        self.peak = dict(self.baseline)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> dict[int, int]:
        sizes = {}
        for process in self.server.children(recursive=True):
            try:
                sizes[process.pid] = process.memory_info().rss
            except Exception:  # a worker gone meanwhile
                continue
        return sizes

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            for pid, rss in self._sample().items():
                self.peak[pid] = max(self.peak.get(pid, 0), rss)

    def growth_mb(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(
            (self.peak[pid] - self.baseline.get(pid, self.peak[pid])) / MIB for pid in self.peak
        )


class CpuWatch:
    """CPU seconds spent by the web workers and by this process since the last lap."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.server = psutil.Process(pid)
        self.last = self._total()

    def _total(self) -> tuple[float, float]:
        web = sum(sum(p.cpu_times()[:2]) for p in self.server.children(recursive=True))
        mine = sum(os.times()[:2])
        return web, mine

    def lap(self) -> tuple[float, float]:
        now = self._total()
        spent = (now[0] - self.last[0], now[1] - self.last[1])
        self.last = now
        return spent


def _small_worker(args) -> tuple[float, float]:
    url, key_id, secret, bucket, worker, count = args
    s3 = client(url, key_id, secret)
    body = os.urandom(1024)
    s3.put_object(Bucket=bucket, Key=f"warmup/{worker}", Body=body)  # connection and caches
    started = time.perf_counter()
    for i in range(count):
        s3.put_object(Bucket=bucket, Key=f"small/{worker}/{i}", Body=body)
    put_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(count):
        s3.get_object(Bucket=bucket, Key=f"small/{worker}/{i}")["Body"].read()
    return put_seconds, time.perf_counter() - started


def small_objects(url, key_id, secret, *, total: int, clients: int) -> tuple[float, float]:
    per_client = total // clients
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        results = pool.map(
            _small_worker,
            [(url, key_id, secret, "bench", worker, per_client) for worker in range(clients)],
        )
    done = per_client * clients
    return done / max(r[0] for r in results), done / max(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--small", type=int, default=2000, help="small objects in all")
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="sagebrush-bench-s3-"))
    key_id, secret = prepare(data_dir)
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO)}
    server = subprocess.Popen(
        [sys.executable, "-m", "infra.web", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=REPO,
    )
    try:
        wait_for_port(port)
        url = f"http://127.0.0.1:{port}"
        s3 = client(url, key_id, secret)
        s3.create_bucket(Bucket="bench")
        s3.put_object(Bucket="bench", Key="warm", Body=b"x")
        size = args.size_mb * MIB
        source = data_dir / "source.bin"
        make_file(source, size)
        copy_s = plain_copy(source, data_dir / "copy.bin")
        (data_dir / "copy.bin").unlink()
        watch = RssWatch(server.pid)
        cpu = CpuWatch(server.pid)
        started = time.perf_counter()
        s3.upload_file(str(source), "bench", "big.bin")
        put_s = time.perf_counter() - started
        put_cpu = cpu.lap()
        started = time.perf_counter()
        s3.download_file("bench", "big.bin", str(data_dir / "down.bin"))
        get_s = time.perf_counter() - started
        get_cpu = cpu.lap()
        growth = watch.growth_mb()
        assert (data_dir / "down.bin").stat().st_size == size
        (data_dir / "down.bin").unlink()
        mb = size / 1e6
        print(f"object: {args.size_mb} MiB")
        print(f"copy: {mb / copy_s:8.0f} MB/s ({copy_s:.2f} s)")
        print(f"put:  {mb / put_s:8.0f} MB/s ({put_s:.2f} s), {copy_s / put_s:.0%} of the copy")
        print(f"get:  {mb / get_s:8.0f} MB/s ({get_s:.2f} s), {copy_s / get_s:.0%} of the copy")
        print(
            f"CPU seconds (web, client): put {put_cpu[0]:.1f}, {put_cpu[1]:.1f}; "
            f"get {get_cpu[0]:.1f}, {get_cpu[1]:.1f}"
        )
        print(f"web worker RSS growth: {growth:.0f} MB (largest of the workers)")
        cpu.lap()
        clients_before = sum(os.times()[2:4])
        puts, gets = small_objects(url, key_id, secret, total=args.small, clients=args.clients)
        web_s = cpu.lap()[0]
        clients_s = sum(os.times()[2:4]) - clients_before
        requests = 2 * (args.small // args.clients) * args.clients
        print(
            f"small objects (1 KiB), {args.clients} clients: {puts:.0f} puts/s, {gets:.0f} gets/s"
        )
        print(
            f"CPU ms per small request (web, clients with their start): "
            f"{1000 * web_s / requests:.1f}, {1000 * clients_s / requests:.1f}"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
