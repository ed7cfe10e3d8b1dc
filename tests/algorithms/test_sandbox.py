"""The job sandbox on its own: what a command inside it can see, who it runs as, its limits."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from algorithms import sandbox as sandbox_module
from algorithms.sandbox import (
    Sandbox,
    base_environment,
    instance_limits,
    python_folders,
    sandbox_status,
)
from infra.config import settings

pytestmark = pytest.mark.skipif(
    not sandbox_status().available, reason=f"no sandbox here: {sandbox_status().reason}"
)

LOOK = """
import json, os, resource
def listing(path):
    try:
        return sorted(os.listdir(path))
    except OSError as error:
        return type(error).__name__
print(json.dumps({
    "uid": os.getuid(), "env": dict(os.environ), "ml": listing("/opt/ml"), "tmp": listing("/tmp"),
    "data_dir": listing(os.environ["DATA"]), "home": listing(os.path.expanduser("~root")),
    "cpus": len(os.sched_getaffinity(0)), "files": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
    "memory": resource.getrlimit(resource.RLIMIT_DATA)[0],
}))
"""


def tmp_as_a_job_sees_it() -> list[str]:
    """A job's own /tmp, when new: empty, but for the way to the job's Python where that lies
    under /tmp (a checkout there)."""
    return sorted(
        {Path(f).relative_to("/tmp").parts[0] for f in python_folders() if f.startswith("/tmp/")}
    )


def run_inside(sandbox: Sandbox, argv: list[str]) -> subprocess.CompletedProcess:
    sandbox.prepare()
    return subprocess.run(
        sandbox.command(argv, cwd="/opt/ml"),
        env=sandbox.host_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_command_sees_its_own_files_only_and_none_of_the_platforms(tmp_path: Path):
    data_dir = settings().data_dir
    (data_dir / "work").mkdir(parents=True, exist_ok=True)
    (data_dir / "work" / "someone-elses.csv").write_text("private")
    root, tmp = tmp_path / "ml", tmp_path / "tmp"
    (root / "processing").mkdir(parents=True)
    (root / "processing" / "mine.csv").write_text("1,2\n")
    os.environ["PLATFORM_ONLY"] = "secret-value"
    try:
        sandbox = Sandbox(
            root=root,
            tmp=tmp,
            environment={**base_environment(), "DATA": str(data_dir)},
            limits=instance_limits("ml.t3.medium"),
        )
        done = run_inside(sandbox, ["python3", "-c", LOOK])
    finally:
        del os.environ["PLATFORM_ONLY"]
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["uid"] != 0
    assert "PLATFORM_ONLY" not in seen["env"] and "SECRET_KEY" not in seen["env"]
    assert seen["ml"] == ["processing"]
    assert seen["tmp"] == tmp_as_a_job_sees_it()
    assert seen["data_dir"] in ([], "FileNotFoundError")  # hidden (under /tmp here: replaced)
    assert "someone-elses.csv" not in done.stdout
    assert seen["home"] in ([], [".pyenv"], "PermissionError", "FileNotFoundError")
    assert seen["cpus"] <= 2  # ml.t3.medium: 2 vCPUs
    assert seen["memory"] == 4 * 1024**3
    assert seen["files"] >= 1024
    # What the command writes is the job's, on the platform's disk, and nowhere else.
    done = run_inside(sandbox, ["sh", "-c", "echo out > /opt/ml/processing/out.txt"])
    assert done.returncode == 0, done.stderr
    assert (root / "processing" / "out.txt").read_text() == "out\n"


def test_a_command_that_is_not_there_is_named(tmp_path: Path):
    sandbox = Sandbox(
        root=tmp_path / "ml",
        tmp=tmp_path / "tmp",
        environment=base_environment(),
        limits=instance_limits("ml.m5.large"),
    )
    done = run_inside(sandbox, ["no-such-program", "x"])
    assert done.returncode == 125
    assert "'no-such-program' is not found" in done.stderr


def test_a_python_under_tmp_stays_in_sight_under_the_jobs_own_tmp(tmp_path: Path, monkeypatch):
    """A checkout in /tmp: its virtual environment is bound back, read-only, over the job's /tmp."""
    python = tmp_path / "checkout" / ".venv"
    (python / "bin").mkdir(parents=True)
    (python / "bin" / "marker").write_text("here")
    assert str(python).startswith("/tmp/")  # pytest's tmp_path
    monkeypatch.setattr(sandbox_module, "python_folders", lambda: [*python_folders(), str(python)])
    sandbox = Sandbox(
        root=tmp_path / "ml",
        tmp=tmp_path / "tmp",
        environment=base_environment(),
        limits=instance_limits("ml.m5.large"),
    )
    done = run_inside(sandbox, ["sh", "-c", f"cat {python}/bin/marker; touch {python}/x"])
    assert done.stdout == "here"
    assert done.returncode != 0 and "Read-only" in done.stderr
