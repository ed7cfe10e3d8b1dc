"""Loaded by pytest before Django (``-p tests.environment``): point every setting at a scratch area.

The suite never touches the developer's ``.sagebrush`` data, the machine's Redis or Prefect.
"""

import os
import tempfile

# ``make test`` runs two pytest-xdist workers, spawned with the controller's environment: each
# worker takes a scratch area of its own instead of the one the controller chose.
_controllers = os.environ.get("SAGEBRUSH_TESTS_SCRATCH")
if _controllers and os.environ.get("DATA_DIR") == _controllers:
    for inherited in ("DATA_DIR", "PREFECT_HOME"):
        os.environ.pop(inherited, None)
_scratch = tempfile.mkdtemp(prefix="sagebrush-tests-")
os.environ["SAGEBRUSH_TESTS_SCRATCH"] = _scratch
os.environ.setdefault("DATA_DIR", _scratch)
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-tests-only-secret-key")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_HOME", os.path.join(_scratch, "prefect"))
os.environ.pop("S3_ENDPOINT_URL", None)
# Nothing listens here: a job created by a test that does not start the stack fails at once,
# saying its flow run could not start, instead of reaching a developer's Prefect server.
os.environ.setdefault("SAGEBRUSH_PREFECT_PORT", "9")
os.environ.setdefault("PREFECT_API_URL", "http://127.0.0.1:9/api")
os.environ.setdefault("PREFECT_CLIENT_MAX_RETRIES", "0")
# Fuzzers and isolation tests send many bad signatures from 127.0.0.1, to this process and to the
# stack it starts: nothing is throttled unless a test lowers the limit (tests/console/
# test_auth_throttle.py). Failures are counted in this process's memory (the stack's: its Redis).
os.environ.setdefault("SAGEBRUSH_AUTH_FAILURE_LIMIT", "1000000")
os.environ.setdefault("CACHE_URL", "locmemcache://")
