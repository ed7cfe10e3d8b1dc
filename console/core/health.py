"""``/healthz`` (the web process is alive) and ``/readyz`` (every part of the stack can take
work), for load balancers, orchestrators and ``manage.py stack``'s "ready" line.

Neither needs a login: they say only whether each part answers, never a credential (URLs are
shown without their user and password).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

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
