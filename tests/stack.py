"""``stack``: the whole platform (``manage.py stack``) on free ports, started once per session
and shared by every test that asks for it (``tests/e2e``, ``tests/notebooks``): a plugin, ``-p
tests.stack`` in pyproject.toml, so the fixture is one.

End-to-end tests drive it the way a user does: boto3 clients, the REST API and the console over
HTTP. It has its own DATA_DIR and SQLite database, so it shares nothing with the test database.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from _pytest.nodeid import coerce_node_id
from botocore.config import Config

from tests.conftest import free_port, wait_for_http
from tests.datasets import labelled_csv

REPO = Path(__file__).resolve().parents[1]
ADMIN, PASSWORD = "e2e-admin", "e2e password 9"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# pytest's timeout (pyproject.toml) counts fixture set-up, so the first test to ask for ``stack``
# spends up to this long starting it: every test's ``timeout`` mark adds its own waits to this.
STACK_START_S = 180
# A training job's waiter: a poll a second, 240 of them (a little over four minutes with the calls).
WAIT = {"Delay": 1, "MaxAttempts": 240}


@dataclass
class Stack:
    url: str
    prefect_url: str
    data_dir: Path
    env: dict[str, str]
    access_key_id: str
    secret_access_key: str
    pid: int

    def crash(self) -> None:
        """Kill every process of the stack at once, none cleaning up: as when the machine stops."""
        import psutil

        root = psutil.Process(self.pid)
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()

    def client(self, service: str, **config):
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            config=Config(retries={"max_attempts": 2, "mode": "standard"}, **config),
        )

    @property
    def sagemaker(self):
        return self.client("sagemaker")

    @property
    def runtime(self):
        return self.client("sagemaker-runtime", read_timeout=70)

    @property
    def store(self):
        """The stack's object store (its DATA_DIR/objects directory)."""
        from infra.storage.local import LocalObjectStore

        return LocalObjectStore(self.data_dir / "objects")

    def rest(self, method: str, path: str, json_body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(json_body).encode() if json_body is not None else None
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.access_key_id}:{self.secret_access_key}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read()
                return response.status, json.loads(body) if body else {}
        except urllib.error.HTTPError as error:
            body = error.read()
            return error.code, json.loads(body) if body else {}

    def log(self, process: str) -> str:
        path = self.data_dir / "logs" / f"{process}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _manage(env: dict[str, str], *args: str, deadline: float) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=max(deadline - time.monotonic(), 1.0),
    ).stdout


def _wait_for_serving(data_dir: Path, *, since: int, deadline: float) -> None:
    """Until flows.serve has registered every deployment and polls for runs (Prefect says so in
    the flows log, after its first ``since`` characters: a restart appends to the last one's)."""
    log = data_dir / "logs" / "flows.log"
    while "polling for scheduled runs" not in (
        log.read_text(errors="replace")[since:] if log.exists() else ""
    ):
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
            raise TimeoutError(f"the stack's flow deployments are not served:\n{tail}")
        time.sleep(0.5)


@contextlib.contextmanager
def running_stack(
    data_dir: Path | None = None, *, env: dict[str, str] | None = None
) -> Iterator[Stack]:
    """Start ``manage.py stack`` on free ports, in a fresh DATA_DIR removed when it stops, or
    again in ``data_dir``, which is left for the caller to remove; within ``STACK_START_S``.
    ``env`` adds settings (an S3 server, a Dask scheduler) to the embedded defaults."""
    overrides = env or {}
    deadline = time.monotonic() + STACK_START_S
    fresh = data_dir is None
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="sagebrush-e2e-"))
    port, redis_port, prefect_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "PORT": str(port),
        "SAGEBRUSH_REDIS_PORT": str(redis_port),
        "SAGEBRUSH_PREFECT_PORT": str(prefect_port),
        "PREFECT_HOME": str(data_dir / "prefect"),
        "SAGEBRUSH_ADMIN_USER": ADMIN,
        "SAGEBRUSH_ADMIN_PASSWORD": PASSWORD,
        "DJANGO_SETTINGS_MODULE": "console.settings",
    }
    for inherited in (
        "DATABASE_URL",
        "REDIS_URL",
        "PREFECT_API_URL",
        "S3_ENDPOINT_URL",
        "DASK_SCHEDULER_ADDRESS",
        "PREFECT_CLIENT_MAX_RETRIES",
        "CACHE_URL",
    ):
        env.pop(inherited, None)
    env.update(overrides)
    _manage(env, "migrate", "--noinput", deadline=deadline)
    _manage(env, "ensureadmin", deadline=deadline)
    created = _manage(env, "createaccesskey", ADMIN, deadline=deadline)
    keys = dict(line.split(": ", 1) for line in created.splitlines())
    flows_log = data_dir / "logs" / "flows.log"
    since = len(flows_log.read_text(errors="replace")) if flows_log.exists() else 0
    process = subprocess.Popen(
        [sys.executable, "manage.py", "stack"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url, prefect_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{prefect_port}"
    try:
        wait_for_http(url + "/login/", timeout=max(deadline - time.monotonic(), 0.0))
        _wait_for_serving(data_dir, since=since, deadline=deadline)
        yield Stack(
            url=url,
            prefect_url=prefect_url,
            data_dir=data_dir,
            env=env,
            access_key_id=keys["AccessKeyId"],
            secret_access_key=keys["SecretAccessKey"],
            pid=process.pid,
        )
    finally:
        with contextlib.suppress(ProcessLookupError):  # gone already if the test crashed it
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if fresh:
            shutil.rmtree(data_dir, ignore_errors=True)


def _starts_a_stack(item: pytest.Item) -> bool:
    return (
        "stack" in getattr(item, "fixturenames", ()) or item.get_closest_marker("e2e") is not None
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests that start a stack run first and together, on one pytest-xdist worker (``make
    test`` runs ``--dist loadgroup``): the other worker runs the rest beside them, and no worker
    starts a second stack."""
    starting = [item for item in items if _starts_a_stack(item)]
    for item in starting:
        item.add_marker(pytest.mark.xdist_group("stack"))
        if getattr(config.option, "loadgroup", False):
            # xdist 3.8 names the group by setting ``item._nodeid``, which pytest 9 no longer
            # reads: the scheduler would see no group and start a stack on each worker.
            item._id = coerce_node_id(f"{item.nodeid.split('@')[0]}@stack")
    items[:] = starting + [item for item in items if not _starts_a_stack(item)]


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    with running_stack() as running:
        yield running


@pytest.fixture
def browser():
    """Debian's Chromium driven by Playwright (no browser is ever downloaded)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: `make test` installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def training_csv(rows: int, *, seed: int) -> bytes:
    """Labelled CSV for the stack's jobs: five features, label x1 > x3. The tuning test's timing
    (how soon the median rule stops a slow trial) was measured on this shape."""
    return labelled_csv(rows, seed=seed, weights=(1.0, 0.0, -1.0, 0.0, 0.0), decimals=4)


def channels(bucket: str) -> list[dict]:
    """The train/ and validation/ prefixes of ``bucket`` as a training job's InputDataConfig."""
    return [
        {
            "ChannelName": name,
            "ContentType": "text/csv",
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{name}/"}
            },
        }
        for name in ("train", "validation")
    ]


def training_bucket(stack: Stack, prefix: str, *, train: int, validation: int, seed: int) -> str:
    """A fresh bucket holding ``train/train.csv`` and ``validation/validation.csv``: that many
    rows of ``training_csv``, drawn with ``seed`` and ``seed + 1``."""
    bucket = f"{prefix}-{uuid.uuid4().hex[:8]}"
    stack.store.create_bucket(bucket)
    stack.store.write_bytes(f"s3://{bucket}/train/train.csv", training_csv(train, seed=seed))
    stack.store.write_bytes(
        f"s3://{bucket}/validation/validation.csv", training_csv(validation, seed=seed + 1)
    )
    return bucket
