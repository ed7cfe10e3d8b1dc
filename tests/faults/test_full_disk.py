"""A job whose scratch disk (DATA_DIR/work) fills while it stages its input: it fails with a
reason that names what it was writing, and its scratch folder is removed.

A full file system needs root (a small tmpfs) or a quota; this test needs neither. The flow runs
fork from the serve process's fork server, so the fork server is given a file-size limit
(RLIMIT_FSIZE, lowered with ``prlimit``) for the length of one job: the job's own write past the
limit fails as a full disk's would (EFBIG, "File too large", where a disk says ENOSPC), and
nothing else of the stack is touched. The limit sits well above the stack's database, which
the job's process also writes."""

from __future__ import annotations

import resource
import time
import uuid

import pytest

from tests.faults.conftest import flows_serve, report, wait_until
from tests.flows.test_processing import request
from tests.stack import STACK_START_S

pytestmark = pytest.mark.e2e

MiB = 1 << 20
SCRIPT = b"print('never runs: the input does not fit')\n"


def largest_file(root) -> int:
    """The largest file the job's process might write besides its scratch (the database)."""
    sizes = [
        path.stat().st_size
        for path in root.rglob("*")
        if path.is_file() and path.relative_to(root).parts[0] not in ("objects", "logs", "work")
    ]
    return max(sizes, default=0)


@pytest.mark.timeout(STACK_START_S + 180)
def test_a_full_scratch_disk_fails_the_job_and_frees_its_scratch(stack):
    [serve] = flows_serve(stack.data_dir)
    [fork_server] = [
        child for child in serve.children() if "forkserver" in " ".join(child.cmdline())
    ]
    limit = 16 * MiB + 2 * largest_file(stack.data_dir)
    bucket = f"faults-disk-{uuid.uuid4().hex[:8]}"
    stack.store.create_bucket(bucket)
    stack.store.write_bytes(f"s3://{bucket}/raw/big.csv", b"1,2,3,4\n" * ((limit + MiB) // 8))
    stack.store.write_bytes(f"s3://{bucket}/code/preprocess.py", SCRIPT)
    name = bucket.replace("faults-disk", "faults-full-disk")
    scratch = stack.data_dir / "work" / "processing"
    before = set(scratch.iterdir()) if scratch.is_dir() else set()

    soft, hard = resource.prlimit(fork_server.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(fork_server.pid, resource.RLIMIT_FSIZE, (limit, hard))
    try:
        started = time.monotonic()
        stack.sagemaker.create_processing_job(**request(bucket, name=name))
        job = wait_until(
            lambda: (
                (described := stack.sagemaker.describe_processing_job(ProcessingJobName=name))[
                    "ProcessingJobStatus"
                ]
                not in ("InProgress", "Stopping")
                and described
            ),
            timeout=120,
            what="the processing job ending",
            poll=0.2,
        )
        ended = time.monotonic()
    finally:
        resource.prlimit(fork_server.pid, resource.RLIMIT_FSIZE, (soft, hard))

    assert job["ProcessingJobStatus"] == "Failed"
    reason = job["FailureReason"]
    assert f"s3://{bucket}/raw/big.csv" in reason, reason
    assert "no room on the local disk" in reason and "File too large" in reason, reason
    after = set(scratch.iterdir()) if scratch.is_dir() else set()
    assert after <= before, f"the job's scratch is left: {after - before}"
    assert not list(stack.store.list(f"s3://{bucket}/out/")), "nothing is uploaded"
    report(
        "scratch-disk-full",
        limit_mib=round(limit / MiB, 1),
        failed_after_s=round(ended - started, 2),
        reason=repr(reason),
    )
