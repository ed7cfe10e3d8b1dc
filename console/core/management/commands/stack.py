"""``manage.py stack``: run the whole platform in the foreground (what ``make run`` starts).

It says "ready" only once ``/readyz`` answers that every part can take work (the flow
deployments registered and polled, workers answering), not when the web port first opens.
"""

import json
import threading
import time
import urllib.error
import urllib.request

from django.core.management.base import BaseCommand

from infra import stack
from infra.config import settings

# How often the readiness line is looked for, and after how long a slow start says what it
# still waits for (then again at that interval).
POLL_SECONDS = 1.0
REPORT_AFTER_SECONDS = 60.0
# The stack's own port, never through an HTTP proxy the environment names.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Command(BaseCommand):
    help = (
        "Start web, Prefect, the flows' serve process, Redis and Celery workers; Ctrl-C stops all."
    )

    def handle(self, *args, **options):
        config = settings()
        base = f"http://127.0.0.1:{config.port}"
        self.stdout.write(
            "\n".join(
                [
                    "Sagebrush is starting:",
                    f"  console          {base}/",
                    f"  REST API         {base}/api/v1/",
                    f"  OpenAPI docs     {base}/api/docs/",
                    f"  SageMaker API    {base}/  (boto3 endpoint_url)",
                    f"  Prefect UI       {config.prefect_ui_url}/",
                    f"  readiness        {base}/readyz  (liveness {base}/healthz)",
                    f"  data             {config.data_dir}",
                    f"  logs             {config.logs_dir}",
                    "Ctrl-C stops every process.",
                    "",
                ]
            )
        )
        watcher = threading.Thread(
            target=self.announce_ready, args=(base,), name="sagebrush-ready", daemon=True
        )
        watcher.start()
        raise SystemExit(stack.run(config))

    def announce_ready(self, base: str) -> None:
        """Print the ready line once ``/readyz`` says 200; while it does not, every
        ``REPORT_AFTER_SECONDS`` say which parts are still starting."""
        started = time.monotonic()
        next_report = started + REPORT_AFTER_SECONDS
        while True:
            ready, parts = readyz(base)
            if ready:
                elapsed = time.monotonic() - started
                self.stdout.write(f"Sagebrush is ready ({elapsed:.0f} s): {base}/")
                return
            if time.monotonic() >= next_report:
                waiting = ", ".join(f"{name} ({detail})" for name, detail in parts.items())
                self.stdout.write(f"Sagebrush is still starting; waiting for: {waiting}")
                next_report += REPORT_AFTER_SECONDS
            time.sleep(POLL_SECONDS)


def readyz(base: str) -> tuple[bool, dict[str, str]]:
    """``(ready, {part: detail})`` of the parts not ready, from ``/readyz``."""
    try:
        with _LOCAL.open(f"{base}/readyz", timeout=10) as response:
            return response.status == 200, {}
    except urllib.error.HTTPError as error:
        try:
            parts = json.loads(error.read())["parts"]
        except (ValueError, KeyError):
            return False, {"web": f"HTTP {error.code}"}
        return False, {
            name: part["detail"] for name, part in parts.items() if not part.get("ready")
        }
    except OSError as error:
        return False, {"web": f"not answering yet ({error})"}
