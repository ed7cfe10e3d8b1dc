"""The serve process: registers every deployment and runs their flow runs.

``python -m flows.serve`` waits for the Prefect API, reconciles jobs interrupted by a crash, then
serves. Deployments are named ``<flow>/<deployment>``; services start them with
``infra.prefect.start_flow_run``.

Prefect starts each flow run in a fresh interpreter, which here spends seconds importing Prefect,
Django, LightGBM, Dask and torch before a job makes any progress. This process instead starts
them from a fork server that imported all of that once (:func:`fork_flow_runs`).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time

from algorithms.sandbox import sandbox_status
from infra.prefect import api_healthy, configure_environment

configure_environment()

import prefect.flow_engine  # noqa: E402
from prefect import Flow  # noqa: E402
from prefect.exceptions import TerminationSignal  # noqa: E402
from prefect.runner import Runner  # noqa: E402

from flows import (  # noqa: E402
    endpoints,
    labeling,
    pipelines,
    processing,
    system,
    training,
    transform,
    tuning,
)

DEPLOYMENT = "sagebrush"
# How often the runner asks for flow runs to start (Prefect's default is 10 s): a run starts
# within half a second of being created. Measured idle, this process and the Prefect server
# together use 6.5% of a core at 0.5 s (4.6% at 1 s, 9.1% at 0.25 s).
POLL_SECONDS = 0.5


def served_flows() -> list[Flow]:
    """Every flow the platform runs, each served as ``<flow>/sagebrush``."""
    return [
        system.reconcile,
        training.training,
        transform.transform,
        tuning.tuning,
        endpoints.endpoint_deploy,
        labeling.labeling,
        processing.processing,
        pipelines.pipeline,
        pipelines.pipeline_schedule,
    ]


def wait_for_api(*, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not api_healthy():
        if time.monotonic() > deadline:
            raise SystemExit("The Prefect API did not come up; is PREFECT_API_URL right?")
        time.sleep(0.5)


class _ForkServerMultiprocessing:
    """``multiprocessing`` as ``prefect.flow_engine`` sees it: its spawn context forks from the
    fork server instead (a spawned child and a forked one run the same pickled call)."""

    def __init__(self, context: multiprocessing.context.BaseContext) -> None:
        self._context = context

    def get_context(self, method: str | None = None) -> multiprocessing.context.BaseContext:
        return self._context

    def __getattr__(self, name: str):
        return getattr(multiprocessing, name)


def fork_flow_runs(flows: list[Flow]) -> None:
    """Start the fork server, preloading ``flows.warm`` and the modules of ``flows``, and wait
    until it forks; flow runs fork from it from now on.

    The fork server is a new interpreter that only imports (no threads, no connections), so
    forking it is safe; each flow run opens its own database and API connections. It and every
    flow run it forks die with this process, even when it is killed (``flows.warm`` asks the
    kernel): nothing trains on unseen after serve is gone, and the stack sees serve go.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["flows.warm", *(served.fn.__module__ for served in flows)])
    first = context.Process(target=os.getpid)  # returns once the preloading is done
    first.start()
    first.join()
    prefect.flow_engine.multiprocessing = _ForkServerMultiprocessing(context)


def main() -> None:
    wait_for_api()
    system.reconcile()
    sandbox_status()  # says once, here, when user code cannot be sandboxed on this machine
    flows = served_flows()
    fork_flow_runs(flows)
    # Flows added as objects (not as deployments loaded from a path) run in a child process
    # with the flow object handed over, which is what the fork server can start at once.
    runner = Runner(limit=None, query_seconds=POLL_SECONDS)
    for served in flows:
        runner.add_flow(served, name=DEPLOYMENT)
    pipelines.restore_schedules()  # registering the deployments cleared their schedules
    names = ", ".join(f"{served.name}/{DEPLOYMENT}" for served in flows)
    print(f"Deployments {names} are served and polling for scheduled runs.", flush=True)
    try:
        asyncio.run(runner.start())
    except (KeyboardInterrupt, TerminationSignal) as stopped:
        print(f"Received {type(stopped).__name__}, shutting down.", flush=True)


if __name__ == "__main__":
    main()
