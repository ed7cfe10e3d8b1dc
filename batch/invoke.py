"""Call a loaded model the way SageMaker calls a container: with a timeout and a retry budget.

ModelClientConfig's InvocationsTimeoutInSeconds bounds each call and InvocationsMaxRetries says
how often a call that timed out or failed unexpectedly is tried again. Algorithm errors (bad data,
unsupported content type) are deterministic, so they are raised at once, never retried.
"""

from __future__ import annotations

import threading
from typing import Any

from algorithms.base import AlgorithmError, Model


class InvocationFailed(RuntimeError):
    """Every attempt timed out or failed; the message says how the last one ended."""


def invoke(
    model: Model,
    body: bytes,
    *,
    content_type: str,
    accept: str,
    timeout_s: float,
    max_retries: int,
) -> bytes:
    last_error = ""
    for _attempt in range(max_retries + 1):
        try:
            return _call_with_timeout(model, body, content_type, accept, timeout_s)
        except AlgorithmError:
            raise
        except TimeoutError:
            last_error = f"the model did not answer within {timeout_s:g} s"
        except Exception as error:  # anything else is the model "container" failing
            last_error = f"the model failed: {type(error).__name__}: {error}"
    raise InvocationFailed(f"{last_error} (tried {max_retries + 1} times)")


def _call_with_timeout(
    model: Model, body: bytes, content_type: str, accept: str, timeout_s: float
) -> bytes:
    # A daemon thread per call: a call that overruns is abandoned (Python cannot kill it) and
    # cannot keep the worker process from exiting. The thread costs microseconds per request.
    outcome: dict[str, Any] = {}

    def call() -> None:
        try:
            outcome["response"] = model.invoke(body, content_type, accept)
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=call, name="sagebrush-invoke", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise TimeoutError
    if "error" in outcome:
        raise outcome["error"]
    return outcome["response"]
