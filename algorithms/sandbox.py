"""One sandbox for the user's code: training scripts and processing scripts run in it alike.

A job's process gets a private mount namespace (``unshare``) in which its scratch folder is
``/opt/ml`` and its own ``/tmp``, the platform's data directory (database, object store, other
jobs' scratch, secret key) is an empty folder, and it runs as a user of its own with only the
environment SageMaker's container would give it, limited to the instance type's CPUs, memory
and open files. What it does not stop is in the README ("The job sandbox").

Where the machine cannot make namespaces (not root, or no ``unshare``), :func:`sandbox_status`
says so once per process and each job's log says so again; the job then runs as the platform's
own user with the platform's environment, its ``/opt/ml`` paths present only as
``SM_*``-style host paths, as script mode ran before the sandbox.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import subprocess
import sys
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from infra.config import settings

log = logging.getLogger(__name__)

CONTAINER_ROOT = "/opt/ml"
INIT = Path(__file__).with_name("sandbox_init.py")
# The users jobs run as: one per job, so that no job can read another's files or processes.
FIRST_UID, UID_COUNT = 200_000, 100_000
OPEN_FILES = 65_536  # what SageMaker's containers allow (ulimit -n)
UNSANDBOXED_WARNING = (
    "The job sandbox is unavailable ({reason}): user code runs unsandboxed, as the platform's "
    "own user, with the platform's environment and filesystem"
)


@dataclass(frozen=True)
class Limits:
    """What one instance of a type may use: its vCPUs, memory and open files."""

    cpus: int
    memory_bytes: int
    open_files: int = OPEN_FILES


_GIB = 1024**3
# vCPUs and memory (GiB) of the instance types jobs are usually given, as AWS lists them.
INSTANCE_TYPES: dict[str, tuple[int, int]] = {
    "ml.t3.medium": (2, 4),
    "ml.t3.large": (2, 8),
    "ml.t3.xlarge": (4, 16),
    "ml.t3.2xlarge": (8, 32),
    "ml.m4.xlarge": (4, 16),
    "ml.m4.2xlarge": (8, 32),
    "ml.m4.4xlarge": (16, 64),
    "ml.m5.large": (2, 8),
    "ml.m5.xlarge": (4, 16),
    "ml.m5.2xlarge": (8, 32),
    "ml.m5.4xlarge": (16, 64),
    "ml.m5.12xlarge": (48, 192),
    "ml.m5.24xlarge": (96, 384),
    "ml.c4.xlarge": (4, 7),
    "ml.c4.2xlarge": (8, 15),
    "ml.c5.xlarge": (4, 8),
    "ml.c5.2xlarge": (8, 16),
    "ml.c5.4xlarge": (16, 32),
    "ml.c5.9xlarge": (36, 72),
    "ml.r5.large": (2, 16),
    "ml.r5.xlarge": (4, 32),
    "ml.r5.2xlarge": (8, 64),
    "ml.r5.4xlarge": (16, 128),
    "ml.g4dn.xlarge": (4, 16),
    "ml.g4dn.2xlarge": (8, 32),
    "ml.g5.xlarge": (4, 16),
    "ml.g5.2xlarge": (8, 32),
    "ml.p3.2xlarge": (8, 61),
}
DEFAULT_INSTANCE_TYPE = "ml.m5.large"


def instance_limits(instance_type: str) -> Limits:
    """The instance type's limits; a type not in the table gets ``DEFAULT_INSTANCE_TYPE``'s."""
    cpus, memory_gib = INSTANCE_TYPES.get(instance_type, INSTANCE_TYPES[DEFAULT_INSTANCE_TYPE])
    return Limits(cpus=cpus, memory_bytes=memory_gib * _GIB)


@dataclass(frozen=True)
class SandboxStatus:
    available: bool
    reason: str  # why not, when unavailable


@functools.cache
def sandbox_status() -> SandboxStatus:
    """Whether this machine can sandbox jobs, found once per process by starting an empty one
    (and logged once when it cannot)."""
    status = _probe()
    if not status.available:
        log.warning(UNSANDBOXED_WARNING.format(reason=status.reason))
    return status


def _probe() -> SandboxStatus:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return SandboxStatus(False, "the platform does not run as root")
    if shutil.which("unshare") is None:
        return SandboxStatus(False, "the unshare command is missing")
    probe = Path(settings().work_dir) / "sandbox-probe"
    probe.mkdir(parents=True, exist_ok=True)
    plan = _plan(
        binds=[(str(probe), str(probe), True)],
        hide=[],
        keep=[],
        limits=Limits(cpus=1, memory_bytes=_GIB),
        uid=None,
        cwd="/",
        argv=["true"],
        env={"PATH": os.defpath},
    )
    try:
        done = subprocess.run(
            _wrap(plan), capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return SandboxStatus(False, f"unshare could not start: {error}")
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return SandboxStatus(False, why)
    return SandboxStatus(True, "")


def hidden_folders() -> list[str]:
    """What a job must not see: the platform's data directory (database, object store, other
    jobs' scratch, secret key) and the platform user's home (its credentials and caches)."""
    folders = [str(settings().data_dir), str(Path.home())]
    return [folder for folder in folders if Path(folder).resolve() != Path("/")]


def python_folders() -> list[str]:
    """The Python installation a job runs with (the platform's virtual environment and the
    interpreter it was made from), kept in sight where a hidden folder holds them."""
    folders = {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)}
    return sorted(folders)


def _kept_under_tmp() -> list[tuple[str, str, bool]]:
    """Read-only binds of the job's Python where it lies under /tmp (a checkout in /tmp), which
    the job's own /tmp would otherwise cover."""
    return [(folder, folder, True) for folder in python_folders() if folder.startswith("/tmp/")]


def job_uid(key: str) -> int:
    """The user (and group) a job runs as, derived from its scratch folder's path."""
    return FIRST_UID + zlib.crc32(key.encode()) % UID_COUNT


# The job's own Python packages: ``pip install`` inside the sandbox (FrameworkProcessor's
# requirements.txt, say) puts them here, in the job's /tmp, where its Python finds them first.
JOB_SITE_PACKAGES = "/tmp/site-packages"


def base_environment() -> dict[str, str]:
    """What every SageMaker container has before the job's own variables: the platform's Python
    first on ``PATH`` (as the framework image's Python is), a ``HOME``, a UTF-8 locale, and
    ``pip`` installing into the job's own packages."""
    python_bin = str(Path(sys.executable).parent)
    return {
        "PIP_TARGET": JOB_SITE_PACKAGES,
        "PYTHONPATH": JOB_SITE_PACKAGES,
        "PATH": os.pathsep.join(
            [python_bin, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        ),
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


@dataclass(frozen=True)
class Sandbox:
    """One instance's sandbox: ``root`` (a host folder) is its ``/opt/ml`` and ``tmp`` its
    ``/tmp``; ``extra_binds`` maps more host folders to container paths."""

    root: Path
    tmp: Path
    environment: Mapping[str, str]
    limits: Limits
    extra_binds: tuple[tuple[str, str, bool], ...] = field(default=())

    @property
    def enabled(self) -> bool:
        return sandbox_status().available

    def prepare(self) -> None:
        """Hand the job's folders to its user (before the run, after staging its input)."""
        if not self.enabled:
            return
        uid = job_uid(str(self.root))
        writable = [Path(source) for source, _, read_only in self.extra_binds if not read_only]
        for folder in (self.root, self.tmp, *writable):
            folder.mkdir(parents=True, exist_ok=True)
            os.chown(folder, uid, uid)
            for parent, dirs, files in os.walk(folder):
                for name in dirs + files:
                    os.chown(os.path.join(parent, name), uid, uid, follow_symlinks=False)

    def command(self, argv: list[str], *, cwd: str = CONTAINER_ROOT) -> list[str]:
        """The command line that runs ``argv`` in the sandbox, from ``cwd`` (a container path),
        with exactly :attr:`environment`. Unsandboxed: ``argv`` itself (see :meth:`host_env`)."""
        if not self.enabled:
            return list(argv)
        uid = job_uid(str(self.root))
        plan = _plan(
            binds=[
                (str(self.root), CONTAINER_ROOT, False),
                (str(self.tmp), "/tmp", False),
                *_kept_under_tmp(),
                *self.extra_binds,
            ],
            hide=hidden_folders(),
            keep=python_folders(),
            limits=self.limits,
            uid=uid,
            cwd=cwd,
            argv=argv,
            env=dict(self.environment),
        )
        return _wrap(plan)

    def host_env(self) -> dict[str, str]:
        """The environment of the process started with :meth:`command`: none of the platform's
        in the sandbox (the plan carries the job's), the platform's plus the job's without."""
        if self.enabled:
            return {"PATH": os.environ.get("PATH", os.defpath)}
        return {**os.environ, **self.environment}


def _plan(**plan) -> dict:
    limits = plan["limits"]
    plan["limits"] = {
        "cpus": limits.cpus,
        "memory_bytes": limits.memory_bytes,
        "open_files": limits.open_files,
    }
    plan["gid"] = plan["uid"]
    return plan


def _wrap(plan: dict) -> list[str]:
    return [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        sys.executable,
        "-I",
        "-S",
        str(INIT),
        json.dumps(plan),
    ]
