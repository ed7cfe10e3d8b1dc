"""Where the S3 API's web process spends its time: one uvicorn worker in this process, sampled
every few milliseconds across all its threads (the event loop and Django's request threads),
while client processes send UploadParts or small PutObject/GetObject.

    .venv/bin/python -m tests.benchmarks.profile_s3 parts [--count 16]
    .venv/bin/python -m tests.benchmarks.profile_s3 small [--count 400] [--clients 4]

Prints the functions with the most samples on top of a thread's stack (self) and anywhere in it
(total), counting only samples of threads that were not waiting (in a selector, a lock, a queue).
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.benchmarks.bench_s3 import MIB, client, free_port, prepare, wait_for_port

IDLE = {
    ("selectors.py", "select"),
    ("popen_fork.py", "poll"),
    ("threading.py", "wait"),
    ("threading.py", "_wait_for_tstate_lock"),
    ("queue.py", "get"),
    ("thread.py", "_worker"),
    ("base_events.py", "_run_once"),
    ("current_thread_executor.py", "run_until_future"),
}


class Sampler:
    def __init__(self, interval: float = 0.002) -> None:
        self.driver = threading.get_ident()  # the thread that waits for the clients
        self.interval = interval
        self.own: collections.Counter = collections.Counter()
        self.total: collections.Counter = collections.Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        me = {threading.get_ident(), self.driver}
        while not self._stop.wait(self.interval):
            for ident, frame in sys._current_frames().items():
                if ident in me:
                    continue
                leaf = (os.path.basename(frame.f_code.co_filename), frame.f_code.co_name)
                if leaf in IDLE:
                    continue
                self.samples += 1
                seen = set()
                while frame is not None:
                    code = frame.f_code
                    name = f"{_short(code.co_filename)}:{code.co_firstlineno}:{code.co_name}"
                    if name not in seen:
                        seen.add(name)
                        self.total[name] += 1
                    frame = frame.f_back
                self.own[f"{leaf[0]}:{leaf[1]}"] += 1

    def report(self, top: int = 25) -> None:
        self._stop.set()
        print(f"{self.samples} busy samples")
        print("self:")
        for name, count in self.own.most_common(top):
            print(f"  {count / self.samples:6.1%}  {name}")
        print("total:")
        for name, count in self.total.most_common(top * 2):
            print(f"  {count / self.samples:6.1%}  {name}")


def _short(path: str) -> str:
    for marker in ("site-packages/", "/work/main/", "python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def _parts(args) -> None:
    url, key_id, secret, count = args
    s3 = client(url, key_id, secret)
    body = os.urandom(8 * MIB)
    upload = s3.create_multipart_upload(Bucket="bench", Key="big")["UploadId"]
    parts = []
    started = time.perf_counter()
    for number in range(1, count + 1):
        answer = s3.upload_part(
            Bucket="bench", Key="big", UploadId=upload, PartNumber=number, Body=body
        )
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})
    uploaded = time.perf_counter()
    s3.complete_multipart_upload(
        Bucket="bench", Key="big", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    done = time.perf_counter()
    print(f"parts: {uploaded - started:.2f} s, complete: {done - uploaded:.2f} s", flush=True)


def _small(args) -> None:
    url, key_id, secret, worker, count = args
    s3 = client(url, key_id, secret)
    body = os.urandom(1024)
    for i in range(count):
        s3.put_object(Bucket="bench", Key=f"small/{worker}/{i}", Body=body)
    for i in range(count):
        s3.get_object(Bucket="bench", Key=f"small/{worker}/{i}")["Body"].read()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["parts", "small"])
    parser.add_argument("--count", type=int)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="sagebrush-profile-s3-"))
    key_id, secret = prepare(data_dir)
    import uvicorn

    from infra.web import APP, TcpConfig

    port = free_port()
    server = uvicorn.Server(TcpConfig(APP, host="127.0.0.1", port=port, access_log=False))
    url = f"http://127.0.0.1:{port}"

    def drive() -> None:
        wait_for_port(port)
        client(url, key_id, secret).create_bucket(Bucket="bench")
        context = multiprocessing.get_context("spawn")
        sampler = Sampler()
        started = time.perf_counter()
        if args.what == "parts":
            count = args.count or 16
            context.Process(target=_parts, args=((url, key_id, secret, count),)).start()
        else:
            count = args.count or 400
            per = count // args.clients
            for worker in range(args.clients):
                context.Process(target=_small, args=((url, key_id, secret, worker, per),)).start()
        for process in multiprocessing.active_children():
            process.join()
        elapsed = time.perf_counter() - started
        sampler.report()
        print(f"{args.what}: {count} in {elapsed:.2f} s")
        server.should_exit = True

    threading.Thread(target=drive, daemon=True).start()
    server.run()


if __name__ == "__main__":
    main()
