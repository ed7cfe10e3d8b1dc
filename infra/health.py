"""Is each process of the stack up? One check per process, each quick and independent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import redis

from infra.celery import app as celery_app
from infra.config import Settings
from infra.prefect import api_healthy, deployment_statuses
from infra.storage import get_store


@dataclass(frozen=True)
class Health:
    name: str
    up: bool
    detail: str


def _check(name: str, probe: Callable[[], str]) -> Health:
    try:
        return Health(name, True, probe())
    except Exception as exc:  # a down process shows as down, whatever the failure
        return Health(name, False, f"{type(exc).__name__}: {exc}"[:300])


def redis_health(settings: Settings) -> Health:
    def probe() -> str:
        redis.Redis.from_url(settings.redis_url, socket_timeout=1).ping()
        return settings.redis_url

    return _check("Redis", probe)


def prefect_health(settings: Settings) -> Health:
    def probe() -> str:
        if not api_healthy():
            raise ConnectionError(f"no answer from {settings.prefect_api_url}/health")
        return settings.prefect_api_url

    return _check("Prefect server", probe)


def flows_health(settings: Settings) -> Health:
    def probe() -> str:
        statuses = deployment_statuses()
        ready = sorted(name for name, status in statuses.items() if status == "READY")
        if not ready:
            raise ConnectionError("no serve process is polling any deployment")
        return f"{len(ready)} of {len(statuses)} deployments ready"

    return _check("Flow runner (serve)", probe)


def workers_health(settings: Settings) -> Health:
    def probe() -> str:
        replies = celery_app.control.ping(timeout=1.0)
        if not replies:
            raise ConnectionError("no Celery worker answered a ping")
        return ", ".join(sorted(name for reply in replies for name in reply))

    return _check("Celery workers", probe)


def storage_health(settings: Settings) -> Health:
    def probe() -> str:
        buckets = get_store().list_buckets()
        where = settings.s3_endpoint_url or str(settings.objects_dir)
        return f"{where} ({len(buckets)} buckets)"

    return _check("Object storage", probe)


def dask_health(settings: Settings) -> Health:
    def probe() -> str:
        if not settings.dask_scheduler_address:
            return "a LocalCluster is started for each job"
        # Here, not at the top: distributed takes a second to import, and the web process that
        # asks needs it only when a long-lived scheduler is configured.
        from distributed import Client

        with Client(settings.dask_scheduler_address, timeout=2) as client:
            workers = len(client.scheduler_info()["workers"])
        return f"{settings.dask_scheduler_address} ({workers} workers)"

    return _check("Dask", probe)


def stack_health(settings: Settings) -> list[Health]:
    return [
        check(settings)
        for check in (
            redis_health,
            prefect_health,
            flows_health,
            workers_health,
            storage_health,
            dask_health,
        )
    ]
