"""``manage.py stack``: run the whole platform in the foreground (what ``make run`` starts)."""

from django.core.management.base import BaseCommand

from infra import stack
from infra.config import settings


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
                    f"  data             {config.data_dir}",
                    f"  logs             {config.logs_dir}",
                    "Ctrl-C stops every process.",
                    "",
                ]
            )
        )
        raise SystemExit(stack.run(config))
