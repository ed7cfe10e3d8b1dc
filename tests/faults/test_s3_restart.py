"""The S3 server restarted in the middle of a transform job's writes: every connection to it cut
mid-request, none answered for a while, then served again. An outage shorter than what the
transform waits for its storage (``STORAGE_WAIT_SECONDS``: each range is run again, publishing
made again) is ridden out: the job Completes with every ``.out`` exact, no range part left.

The transform flow in-process (the test database, the suite's two-worker LocalCluster), the
platform's storage the S3 backend on moto's server. moto keeps its objects in memory and would
lose them, the job's input with them, where a real server (MinIO) keeps them on disk; so the
restart is made at a TCP relay in front of it, on the port the platform is given: what the
platform sees is a server whose connections reset, refused while it is down, back with its data.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest

from batch.predict import STORAGE_WAIT_SECONDS
from console.registry.services import model_create
from console.transform.models import TransformJob
from console.transform.services import transform_job_create
from flows.transform import run_transform_job
from infra.storage.s3 import S3ObjectStore
from tests.conftest import FEATURES, free_port, owned_bucket
from tests.console.test_transform import request
from tests.datasets import feature_rows, oracle
from tests.faults.conftest import report, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

OBJECTS = 12
ROWS = 2500  # per object: about 90 KB, in several ranges each
RANGE_BYTES = 16 * 1024
JOB_BOUND_S = 60.0


class Relay:
    """A TCP relay on a fixed port to ``target_port``: ``restart`` resets every connection, leaves
    the port closed for a while, then listens on it again."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None
        self.start()

    def start(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR
        self._listener.settimeout(0.05)
        self._accepting = threading.Thread(target=self._accept, args=(self._listener,), daemon=True)
        self._accepting.start()

    def stop(self) -> int:
        """Close the port and reset every open connection (as a killed server's kernel does);
        returns how many connections were open."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
        if listener is not None:
            listener.close()
        _reset(sockets)
        if self._accepting is not None:
            self._accepting.join()
        return len(sockets) // 2

    def in_flight(self) -> int:
        return len(self._sockets) // 2

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:  # stopped meanwhile
                    _reset({client, server})
                    return
                self._sockets |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        with self._lock:
            if source in self._sockets:
                self._sockets -= {source, sink}
                source.close()
                sink.close()


def _reset(sockets: set[socket.socket]) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RD)  # wakes its pump's recv
        sock.close()  # linger 0: a reset, not an orderly end


@pytest.fixture
def relay(s3_server, monkeypatch) -> Iterator[Relay]:
    """The platform's storage: moto's S3 server, reached through a relay."""
    from infra.config import settings
    from infra.storage import get_store

    relay = Relay(int(s3_server["endpoint_url"].rsplit(":", 1)[1]))
    monkeypatch.setenv("S3_ENDPOINT_URL", relay.url)
    monkeypatch.setenv("S3_ACCESS_KEY", s3_server["access_key"])
    monkeypatch.setenv("S3_SECRET_KEY", s3_server["secret_key"])
    settings.cache_clear()
    get_store.cache_clear()
    yield relay
    relay.stop()
    monkeypatch.undo()
    settings.cache_clear()
    get_store.cache_clear()


class Restart(threading.Thread):
    """Restarts the server behind ``relay`` once the first ``.out`` is published, while the
    rest are still being written; then times when the next one lands, unless the job has ended
    (failed by the outage) first."""

    def __init__(self, relay: Relay, server: S3ObjectStore, prefix: str, down_s: float) -> None:
        super().__init__(daemon=True)
        self.relay, self.server, self.prefix, self.down_s = relay, server, prefix, down_s
        self.outputs_before = self.connections_cut = 0
        self.restarted_at = self.next_output_after_s = None
        self.error: BaseException | None = None
        self.job_ended = threading.Event()

    def outputs(self) -> int:
        return sum(info.key.endswith(".out") for info in self.server.list(self.prefix))

    def run(self) -> None:
        try:
            self.outputs_before = wait_until(self.outputs, timeout=JOB_BOUND_S, what="a .out")
            # moto closes a connection after each answer: wait for one carrying a request.
            wait_until(self.relay.in_flight, timeout=JOB_BOUND_S, what="a request", poll=0.001)
            self.connections_cut = self.relay.stop()
            time.sleep(self.down_s)
            self.relay.start()
            self.restarted_at = time.monotonic()
            wait_until(
                lambda: self.job_ended.is_set() or self.outputs() > self.outputs_before,
                timeout=JOB_BOUND_S,
                what="a .out or the job's end after the restart",
                poll=0.05,
            )
            if self.outputs() > self.outputs_before:
                self.next_output_after_s = round(time.monotonic() - self.restarted_at, 2)
        except BaseException as error:  # the test asserts on it
            self.error = error


@pytest.mark.parametrize("down_s", [2.0, 25.0])
def test_a_transform_rides_out_an_s3_server_restart(
    down_s, relay, s3_server, no_flow_runs, user, model_tarball, dask_client, lightgbm_model
):
    from infra.storage import get_store

    store, server = get_store(), S3ObjectStore(**s3_server)
    bucket = owned_bucket(user, "s3-restart")
    uri = f"s3://{bucket}/models/lgbm/model.tar.gz"
    store.upload_file(str(model_tarball), uri)
    model_create(
        user=user,
        spec={"ModelName": "lgbm", "PrimaryContainer": {"Image": "lightgbm", "ModelDataUrl": uri}},
    )
    expected = {}
    for index in range(OBJECTS):
        rows = feature_rows(ROWS, FEATURES, seed=index)
        store.write_bytes(f"s3://{bucket}/in/part-{index:02d}.csv", b"\n".join(rows) + b"\n")
        expected[f"part-{index:02d}.csv.out"] = oracle(lightgbm_model, rows)
    job = transform_job_create(user=user, spec=request(bucket))
    restart = Restart(relay, server, f"s3://{bucket}/out/", down_s)
    restart.start()

    started = time.monotonic()
    status = run_transform_job(job.pk, client=dask_client, range_bytes=RANGE_BYTES)
    ended = time.monotonic()
    restart.job_ended.set()
    restart.join(timeout=JOB_BOUND_S)
    assert restart.error is None, restart.error
    assert restart.outputs_before < OBJECTS, "the job ended before the restart"

    # Whatever the outcome, the output prefix holds whole outputs only: no range part, no half.
    prefix = f"s3://{bucket}/out/"
    found = {info.uri[len(prefix) :]: server.read_bytes(info.uri) for info in server.list(prefix)}
    assert set(found) <= set(expected), sorted(set(found) - set(expected))
    assert {key for key, body in found.items() if body != expected[key]} == set()
    job = TransformJob.objects.get(pk=job.pk)
    assert down_s < STORAGE_WAIT_SECONDS
    assert status == "Completed", job.failure_reason
    assert found == expected
    report(
        "s3 restart (transform)",
        status=status,
        failure_reason=job.failure_reason or "-",
        objects=OBJECTS,
        outputs_before_restart=restart.outputs_before,
        connections_reset=restart.connections_cut,
        down_s=down_s,
        next_output_after_restart_s=restart.next_output_after_s,
        job_end_after_restart_s=round(ended - restart.restarted_at, 2),
        job_total_s=round(ended - started, 2),
    )
