"""Prefect client helpers: start deployment runs, read their state, link to the Prefect UI.

Prefect reads its settings (API URL, home) once, when it is first imported; so every Prefect
import here sits in its function, after :func:`configure_environment`, never at the top.
"""

from __future__ import annotations

import os
import time
import urllib.request
from uuid import UUID

from infra.config import settings


def configure_environment() -> None:
    """Point Prefect at the platform's API before Prefect reads its settings; never phone home."""
    os.environ.setdefault("PREFECT_API_URL", settings().prefect_api_url)
    os.environ.setdefault("PREFECT_HOME", str(settings().data_dir / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def import_client() -> None:
    """Import Prefect's client now, configured for the platform (a second's work that would
    otherwise fall on the first flow run started)."""
    configure_environment()
    import prefect.deployments  # noqa: F401


class FlowRunNotStarted(RuntimeError):
    """A flow run could not be started; the message says why in the user's words."""


def start_flow_run(deployment: str, *, parameters: dict) -> UUID:
    """Start ``<flow>/<deployment>`` and return at once with the flow-run id (``timeout=0``).

    A deployment that is not registered yet (the serve process is still starting) is waited
    for, up to ``SAGEBRUSH_FLOW_START_WAIT_S`` seconds (30 unless set); then, or when the Prefect
    API does not answer, :class:`FlowRunNotStarted` says which and where.
    """
    configure_environment()
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL

    wait = _start_wait_seconds()
    deadline = time.monotonic() + wait
    delay = 0.25
    while True:
        try:
            return run_deployment(name=deployment, parameters=parameters, timeout=0).id
        except ObjectNotFound:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FlowRunNotStarted(
                    f"the flow deployment {deployment!r} is not registered with the Prefect API "
                    f"at {PREFECT_API_URL.value()} (waited {wait:g} s; is the flows serve "
                    "process running?)"
                ) from None
        except Exception as exc:  # the API is down or answered an error
            detail = str(exc).strip()
            if not detail or detail == "None":
                detail = type(exc).__name__
            raise FlowRunNotStarted(
                f"the Prefect API at {PREFECT_API_URL.value()} did not start {deployment!r}: "
                f"{detail}"
            ) from exc
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 2.0)


def _start_wait_seconds() -> float:
    return float(os.environ.get("SAGEBRUSH_FLOW_START_WAIT_S", "30"))


def flow_run_state(flow_run_id: UUID) -> str | None:
    """The run's state type (``RUNNING``, ``COMPLETED``, ``CRASHED``...), or None if unknown."""
    configure_environment()
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            flow_run = client.read_flow_run(flow_run_id)
        except ObjectNotFound:
            return None
    return flow_run.state.type.value if flow_run.state else None


def flow_run_crash(flow_run_id: UUID, message: str) -> None:
    """Set the run ``Crashed`` (forced: its process is gone and cannot report any more)."""
    configure_environment()
    from prefect import get_client
    from prefect.states import Crashed

    with get_client(sync_client=True) as client:
        client.set_flow_run_state(flow_run_id, Crashed(message=message), force=True)


def flow_run_url(flow_run_id: UUID | str) -> str:
    return f"{settings().prefect_ui_url}/runs/flow-run/{flow_run_id}"


def api_healthy(*, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{settings().prefect_api_url}/health", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


def deployment_statuses() -> dict[str, str]:
    """``{"flow/deployment": "READY" | "NOT_READY"}``: READY while a serve process polls it."""
    configure_environment()
    from prefect import get_client

    with get_client(sync_client=True) as client:
        deployments = client.read_deployments()
        flows = {flow.id: flow.name for flow in client.read_flows()}
    return {
        f"{flows.get(d.flow_id, '?')}/{d.name}": (d.status.value if d.status else "NOT_READY")
        for d in deployments
    }
