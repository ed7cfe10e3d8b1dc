"""An endpoint instance is a Celery worker process serving one variant.

    celery -A infra.serving.worker worker --pool solo -Q sb.serving.<variant> --variant <variant>

runs anywhere the broker is reachable (the supervisor starts them on this machine). A bootstep
loads the variant's model once, then serves the variant's queue in micro-batches on its own
thread (:class:`infra.serving.instance.Instance`); a warm shutdown (SIGTERM, ``celery control
shutdown``) finishes the batch in hand. The Celery queue ``sb.serving.<variant>`` also takes the
plain ``sagebrush.serving.invoke`` task: one request per task, answered by the same loaded
model, kept as the simple path (and the benchmark's baseline).
"""

from __future__ import annotations

import base64
import logging
import os
import threading

import click
import orjson
import redis
from celery import bootsteps

from algorithms.loading import load_containers
from infra.celery import app
from infra.config import settings
from infra.serving import protocol
from infra.serving.batching import Call, invoke_one
from infra.serving.instance import Instance
from infra.serving.instance_log import InstanceLogHandler
from infra.serving.protocol import INSTANCE_ENV, VARIANT_ENV
from infra.storage import get_store

log = logging.getLogger(__name__)

app.user_options["worker"].add(
    click.Option(["--variant"], default=None, help="Serve this endpoint variant (its id).")
)
app.user_options["worker"].add(
    click.Option(["--instance-name"], default=None, help="This instance's consumer name.")
)

_serving: Instance | None = None


def variant_spec(client: redis.Redis, variant_id: str) -> dict | None:
    raw = client.hget(protocol.VARIANTS, variant_id)
    return orjson.loads(raw) if raw else None


class ServingStep(bootsteps.StartStopStep):
    """Loads the model when the worker starts; serves until the worker stops."""

    def __init__(self, parent, variant=None, instance_name=None, **options):
        super().__init__(parent, **options)
        self.variant_id = variant or os.environ.get(VARIANT_ENV)
        self.instance_name = instance_name or os.environ.get(INSTANCE_ENV)
        self.instance: Instance | None = None
        self.thread: threading.Thread | None = None
        self.log: InstanceLogHandler | None = None

    def start(self, worker):
        global _serving
        if not self.variant_id:
            return
        client = redis.Redis.from_url(settings().redis_url)
        spec = variant_spec(client, self.variant_id) or {}
        self.instance = _serving = Instance(
            client=client,
            variant_id=self.variant_id,
            name=self.instance_name or worker.hostname,
            max_batch=int(spec.get("max_batch", 32)),
            max_wait_ms=float(spec.get("max_wait_ms", 2.0)),
        )
        self._keep_log(client, self.instance.name)
        if not spec:
            self.instance.state, self.instance.error = "Failed", "the variant is not deployed"
            log.error(
                "instance %s: variant %s is not deployed", self.instance.name, self.variant_id
            )
            self.instance.beat()
            return
        models_dir = settings().data_dir / "serving" / "models"
        log.info("instance %s loading the model of variant %s", self.instance.name, self.variant_id)
        if self.instance.load(
            lambda: load_containers(spec["containers"], get_store(), work_dir=models_dir)
        ):
            self.thread = threading.Thread(
                target=self.instance.serve_forever, name="serving", daemon=True
            )
            self.thread.start()
            log.info("instance %s serves variant %s", self.instance.name, self.variant_id)

    def _keep_log(self, client: redis.Redis, name: str) -> None:
        """The instance's log, read as its endpoint's log stream: this module's records from
        INFO on, and whatever else reaches the root logger (the model's print()s included)."""
        self.log = InstanceLogHandler(client, variant_id=self.variant_id, instance=name)
        logging.getLogger().addHandler(self.log)
        log.setLevel(logging.INFO)

    def stop(self, worker):
        if self.instance is not None:
            self.instance.stop()
            log.info("instance %s stopping", self.instance.name)
        if self.thread is not None:
            self.thread.join(timeout=70)
        if self.log is not None:
            logging.getLogger().removeHandler(self.log)
            self.log.close()


app.steps["worker"].add(ServingStep)


@app.task(name="sagebrush.serving.invoke", acks_late=True)
def invoke(body_b64: str, content_type: str, accept: str) -> dict:
    """One request as one Celery task, answered by this worker's loaded model."""
    if _serving is None or _serving.model is None:
        return {"error": "this worker serves no model"}
    outcome = invoke_one(_serving.model, Call(base64.b64decode(body_b64), content_type, accept))
    return {
        "body": base64.b64encode(outcome.body).decode(),
        "content_type": outcome.content_type,
        "error": outcome.error,
    }
