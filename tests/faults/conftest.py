"""What the fault tests share: the stack's processes found by role, a registered model, and the
recovery figures each test prints (``pytest -rP tests/faults`` shows them)."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest


def stack_processes(data_dir: Path, role: Callable[[str], bool]) -> list[psutil.Process]:
    """The live processes of the stack in ``data_dir`` whose command line ``role`` accepts."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if not role(" ".join(process.info["cmdline"] or [])):
                continue
            if process.environ().get("DATA_DIR") == str(data_dir):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def dask_workers(data_dir: Path) -> list[psutil.Process]:
    """A job's Dask worker processes (its LocalCluster's nannies spawn them): of the stack's
    spawned processes, those that are not the web server's (uvicorn spawns its workers too)."""

    def parent(process: psutil.Process) -> str:
        with contextlib.suppress(psutil.Error, AttributeError):  # gone, or no parent
            return " ".join(process.parent().cmdline())
        return ""

    spawned = stack_processes(data_dir, lambda cmdline: "spawn_main" in cmdline)
    return [process for process in spawned if "infra.web" not in parent(process)]


def flows_serve(data_dir: Path) -> list[psutil.Process]:
    """The ``python -m flows.serve`` process (not the shell honcho may start it through)."""
    return stack_processes(
        data_dir, lambda cmdline: "-m flows.serve" in cmdline and not cmdline.startswith("/bin/sh")
    )


def wait_until(condition: Callable[[], object], *, timeout: float, what: str, poll=0.1):
    """``condition()``'s first truthy value, polled until ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(poll)


def report(fault: str, **figures: object) -> None:
    """One line of measured figures, kept in the test's captured output."""
    print(f"FAULT {fault}: " + ", ".join(f"{key}={value}" for key, value in figures.items()))


@pytest.fixture(scope="module")
def fault_model(stack, model_tarball) -> tuple[str, str]:
    """A bucket holding the suite's LightGBM model, registered under a fresh name:
    ``(bucket, model)``."""
    suffix = uuid.uuid4().hex[:8]
    bucket, model = f"faults-{suffix}", f"faults-lgbm-{suffix}"
    stack.store.create_bucket(bucket)
    stack.store.upload_file(str(model_tarball), f"s3://{bucket}/model/model.tar.gz")
    stack.sagemaker.create_model(
        ModelName=model,
        PrimaryContainer={"Image": "lightgbm", "ModelDataUrl": f"s3://{bucket}/model/model.tar.gz"},
    )
    return bucket, model
