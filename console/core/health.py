"""``/healthz`` (the web process is alive) and ``/readyz`` (every part of the stack can take
work), for load balancers, orchestrators and ``manage.py stack``'s "ready" line; and the status
page's checks, kept in a cache that a background thread refreshes (``stack_checks``), so that the
page answers at once however slow a part that is down is to say so.

Neither needs a login: they say only whether each part answers, never a credential (URLs are
shown without their user and password).
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.db import connection
from django.http import JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET

from infra import health
from infra.config import settings
from infra.prefect import deployment_statuses

# The deployments the console starts runs of: each app names its own.
DEPLOYMENT_NAMES = (
    "console.training.services.DEPLOYMENT",
    "console.tuning.services.DEPLOYMENT",
    "console.transform.services.DEPLOYMENT",
    "console.processing.services.DEPLOYMENT",
    "console.labeling.services.jobs.DEPLOYMENT",
    "console.pipelines.services.DEPLOYMENT",
    "console.pipelines.schedules.DEPLOYMENT",
    "console.endpoints.services.deployment.DEPLOYMENT",
)
_CREDENTIALS = re.compile(r"(\w+://)[^/@\s]+@")
# The status page's checks are shown from the cache while younger than this; an older result is
# still shown, and a refresh starts in the background (a check of a part that is down can take
# seconds: a Celery ping times out, Prefect's client retries).
STACK_CHECKS_FRESH_S = 10.0
# What the status page lists before the first result is in (infra.health.stack_health's names).
STACK_CHECK_NAMES = (
    "Redis",
    "Prefect server",
    "Flow runner (serve)",
    "Celery workers",
    "Object storage",
    "Dask",
)


@dataclass(frozen=True)
class StackChecks:
    checks: list[health.Health]  # empty until the first refresh ends
    checked_at: float | None  # time.time() of the last refresh's end; None before the first
    refreshing: bool


class _StackChecksCache:
    """One result per web process, refreshed by one background thread at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checks: list[health.Health] = []
        self._checked_at: float | None = None
        self._thread: threading.Thread | None = None

    def get(self) -> StackChecks:
        with self._lock:
            stale = self._checked_at is None or (
                time.time() - self._checked_at > STACK_CHECKS_FRESH_S
            )
            running = self._thread is not None and self._thread.is_alive()
            if stale and not running:
                self._thread = threading.Thread(
                    target=self._refresh, name="stack-checks", daemon=True
                )
                self._thread.start()
                running = True
            return StackChecks(list(self._checks), self._checked_at, running)

    def wait(self, timeout: float) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _refresh(self) -> None:
        checks = [
            health.Health(check.name, check.up, _clean(check.detail))
            for check in health.stack_health(settings())
        ]
        with self._lock:
            self._checks, self._checked_at = checks, time.time()


_stack_checks = _StackChecksCache()


def stack_checks() -> StackChecks:
    """The last result of the stack's checks, at once; starts a refresh in the background when
    it is older than STACK_CHECKS_FRESH_S (or there is none yet)."""
    return _stack_checks.get()


def stack_checks_wait(timeout: float = 30.0) -> None:
    """Until the refresh under way (if any) ends: for tests and for a command that must know."""
    _stack_checks.wait(timeout)


@require_GET
def healthz(request) -> JsonResponse:
    """Alive: the web process answers. Says nothing of the other parts (see ``readyz``)."""
    return JsonResponse({"status": "alive"})


@require_GET
def readyz(request) -> JsonResponse:
    """200 when every part is ready, else 503; each part's state either way."""
    parts = readiness()
    ready = all(part["ready"] for part in parts.values())
    return JsonResponse({"ready": ready, "parts": parts}, status=200 if ready else 503)


def readiness() -> dict[str, dict]:
    """``{part: {"ready": bool, "detail": str}}`` for the database, the Prefect API, the flow
    deployments, the Dask scheduler, Redis, the Celery workers and the object storage."""
    config = settings()
    # The quick checks at once; the slow ones (a Celery ping, Prefect's client, which retry for
    # seconds against a server that is down) only once the server they need answers.
    with ThreadPoolExecutor(max_workers=4) as pool:
        quick = {
            name: pool.submit(check, config)
            for name, check in (
                ("prefect", health.prefect_health),
                ("dask", health.dask_health),
                ("redis", health.redis_health),
                ("storage", health.storage_health),
            )
        }
        parts = {"database": _database()}
        parts.update({name: _part(future.result()) for name, future in quick.items()})
        celery = pool.submit(health.workers_health, config) if parts["redis"]["ready"] else None
        if parts["prefect"]["ready"]:
            parts["deployments"] = _deployments()
        else:
            parts["deployments"] = {"ready": False, "detail": "waiting for the Prefect API"}
        parts["celery"] = (
            _part(celery.result()) if celery else {"ready": False, "detail": "waiting for Redis"}
        )
    return {name: parts[name] for name in sorted(parts)}


def _part(result: health.Health) -> dict:
    return {"ready": result.up, "detail": _clean(result.detail)}


def expected_deployments() -> list[str]:
    return sorted(import_string(name) for name in DEPLOYMENT_NAMES)


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # a database that cannot answer is not ready, whatever the failure
        return {"ready": False, "detail": _clean(f"{type(exc).__name__}: {exc}")}
    return {"ready": True, "detail": connection.vendor}


def _deployments() -> dict:
    """Every deployment the console starts is registered and polled by a serve process."""
    try:
        statuses = deployment_statuses()
    except Exception as exc:  # the Prefect API is down: no deployment can be seen
        return {"ready": False, "detail": _clean(f"{type(exc).__name__}: {exc}")}
    expected = expected_deployments()
    missing = [name for name in expected if name not in statuses]
    idle = [name for name in expected if name in statuses and statuses[name] != "READY"]
    if missing:
        detail = f"not registered yet: {', '.join(missing)}"
    elif idle:
        detail = f"no serve process polls: {', '.join(idle)}"
    else:
        detail = f"{len(expected)} deployments served"
    return {"ready": not missing and not idle, "detail": detail}


def _clean(detail: str) -> str:
    return _CREDENTIALS.sub(r"\1***@", detail)[:300]
