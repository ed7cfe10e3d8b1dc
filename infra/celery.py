"""The Celery application: broker and results on Redis (the embedded server by default)."""

from celery import Celery

from infra.config import settings

app = Celery("sagebrush", broker=settings().redis_url, backend=settings().redis_url)
app.conf.update(
    task_acks_late=True,  # a worker that dies mid-task leaves it for another to redeliver
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
)
