"""The serve process: registers every deployment and runs their flow runs.

``python -m flows.serve`` waits for the Prefect API, reconciles jobs interrupted by a crash, then
serves. Deployments are named ``<flow>/<deployment>``; services start them with
``infra.prefect.start_flow_run``.
"""

from __future__ import annotations

import os
import time

from infra.prefect import api_healthy, configure_environment

# Runs start within about a second of being created (Prefect's default poll is 10 s).
os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "1")
configure_environment()

from prefect import serve  # noqa: E402

from flows import endpoints, system, training, transform, tuning  # noqa: E402

DEPLOYMENT = "sagebrush"


def deployments() -> list:
    """Every deployment the platform runs; each job-kind flow adds its line here."""
    return [
        system.reconcile.to_deployment(name=DEPLOYMENT),
        training.training.to_deployment(name=DEPLOYMENT),
        transform.transform.to_deployment(name=DEPLOYMENT),
        tuning.tuning.to_deployment(name=DEPLOYMENT),
        endpoints.endpoint_deploy.to_deployment(name=DEPLOYMENT),
    ]


def wait_for_api(*, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not api_healthy():
        if time.monotonic() > deadline:
            raise SystemExit("The Prefect API did not come up; is PREFECT_API_URL right?")
        time.sleep(0.5)


def main() -> None:
    wait_for_api()
    system.reconcile()
    serve(*deployments(), limit=None)


if __name__ == "__main__":
    main()
