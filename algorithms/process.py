"""Run a command with its output streamed line by line to a Reporter, and stop it on request.

Stopping follows SageMaker's StopTrainingJob: SIGTERM to the command's whole process group, then
SIGKILL once the grace period has passed. Nothing the command started outlives it.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from algorithms.base import Reporter

# SageMaker's: StopTrainingJob sends SIGTERM and allows 120 s to save before killing.
STOP_GRACE_SECONDS = 120.0
STDERR_TAIL_LINES = 20
_POLL_SECONDS = 0.1
_STOP_CHECK_SECONDS = 0.5
# After the command exits, how long its leftover children may keep the log pipes open.
_DRAIN_SECONDS = 2.0


# A line naming an exception as Python prints it (``ValueError: ...``, ``pandas.errors.X: ...``).
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b.*")
# The exception line that ends a traceback: not indented, a dotted name, then ": " or nothing.
_RAISED_LINE = re.compile(r"^[A-Za-z_][\w.]*(: |$)")


def exception_text(stderr_tail: list[str]) -> str:
    """What a failed Python process said last: the exception that ended its traceback, type and
    message (every line of it), else the last line naming an exception, else the last line."""
    lines = [line.rstrip() for line in stderr_tail if line.strip()]
    frames = [i for i, line in enumerate(lines) if line.startswith('  File "')]
    for index in range(len(lines) - 1, frames[-1] if frames else len(lines), -1):
        follows_frames = lines[index - 1].startswith((" ", "\t"))
        if follows_frames and _RAISED_LINE.match(lines[index]):
            return "\n".join(lines[index:])
    for line in reversed(lines):
        if _EXCEPTION_LINE.match(line):
            return line.strip()
    return lines[-1].strip() if lines else ""


@dataclass(frozen=True)
class Outcome:
    exit_code: int  # negative: killed by that signal
    stopped: bool  # ended because reporter.should_stop() turned true
    stderr_tail: list[str]  # its last lines on stderr


def supervise(
    command: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    reporter: Reporter,
    stop_grace_seconds: float = STOP_GRACE_SECONDS,
) -> Outcome:
    """Run ``command`` to its end, or until ``reporter.should_stop()``, logging every line."""
    lines: queue.Queue[tuple[str, str | None]] = queue.Queue()
    stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    # A session of its own, so that stopping reaches the processes the command started too.
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    )
    readers = [
        threading.Thread(target=_pump, args=(stream, name, lines), daemon=True)
        for stream, name in ((process.stdout, "stdout"), (process.stderr, "stderr"))
    ]
    for reader in readers:
        reader.start()
    open_streams, stopped = len(readers), False
    next_stop_check, kill_at, drain_until = 0.0, None, None
    try:
        while open_streams:
            try:
                stream, line = lines.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                pass
            else:
                if line is None:
                    open_streams -= 1
                    continue
                if stream == "stderr":
                    stderr_tail.append(line)
                reporter.log(line)
            now = time.monotonic()
            if process.poll() is not None:
                drain_until = drain_until or now + _DRAIN_SECONDS
                if now >= drain_until:
                    break  # children the script left behind hold the pipes open
            elif kill_at is not None and now >= kill_at:
                _signal_group(process, signal.SIGKILL)
                kill_at = now + stop_grace_seconds
            elif not stopped and now >= next_stop_check:
                next_stop_check = now + _STOP_CHECK_SECONDS
                if reporter.should_stop():
                    reporter.log("Stop requested: sending SIGTERM to the training script")
                    stopped = True
                    _signal_group(process, signal.SIGTERM)
                    kill_at = now + stop_grace_seconds
        exit_code = process.wait()
    finally:
        # Whatever happens here, nothing the script started outlives the job.
        _signal_group(process, signal.SIGKILL)
        process.wait()
        for reader in readers:
            reader.join(timeout=_DRAIN_SECONDS)
    return Outcome(exit_code=exit_code, stopped=stopped, stderr_tail=list(stderr_tail))


def _pump(stream: IO[str], name: str, lines: queue.Queue[tuple[str, str | None]]) -> None:
    with stream:
        for line in stream:
            lines.put((name, line.rstrip("\r\n")))
    lines.put((name, None))


def _signal_group(process: subprocess.Popen[str], signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is already gone
        os.killpg(process.pid, signum)
