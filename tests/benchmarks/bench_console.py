"""Server time of the console's pages with 1,000 rows in each list.

Run on demand (the suite does not): ``.venv/bin/python -m tests.benchmarks.bench_console``.
A scratch DATA_DIR and SQLite database get 1,000 training jobs, tuning jobs, models, endpoint
configs, endpoints, transform jobs, processing jobs, labeling jobs, pipelines (one execution
each), model package groups and access keys of one user, and 1,000 objects in one bucket;
each page is then asked for through Django's test client (no network, no browser), and its
median and slowest server time over ``--rounds`` printed, with the SQL queries it made (a
number that grows with the rows shown is an N+1). Goal: every page under 300 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

ROWS = 1000
GOAL_MS = 300


def setup() -> None:
    scratch = tempfile.mkdtemp(prefix="sagebrush-bench-console-")
    os.environ["DATA_DIR"] = scratch
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-bench-only-secret-key")
    # Nothing listens here: the status page's checks find the parts down at once.
    os.environ.setdefault("PREFECT_API_URL", "http://127.0.0.1:9/api")
    os.environ.setdefault("PREFECT_CLIENT_MAX_RETRIES", "0")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(user, rows: int = ROWS) -> None:
    """``rows`` of each resource."""
    from datetime import timedelta

    from django.utils import timezone

    from console.accounts.services import access_key_create
    from console.buckets.services import bucket_create
    from console.core.names import account_id_for, arn
    from console.endpoints.models import Endpoint, EndpointConfig
    from console.labeling.models import LabelingJob
    from console.pipelines.models import Pipeline, PipelineExecution
    from console.processing.models import ProcessingJob
    from console.registry.models import Model, ModelPackageGroup
    from console.training.models import TrainingJob
    from console.transform.models import TransformJob
    from console.tuning.models import HyperParameterTuningJob
    from infra.storage import get_store

    account = account_id_for(user.pk)
    started = timezone.now() - timedelta(minutes=30)
    statuses = ("Completed", "Failed", "InProgress")
    image = {"AlgorithmSpecification": {"TrainingImage": "xgboost:1"}}
    for model, kind, extra in (
        (TrainingJob, "training-job", {"spec": image, "started_at": started}),
        (HyperParameterTuningJob, "hyper-parameter-tuning-job", {"spec": {}}),
        (TransformJob, "transform-job", {"model_name": "m", "started_at": started}),
        (ProcessingJob, "processing-job", {"started_at": started}),
        (LabelingJob, "labeling-job", {"started_at": started, "task_type": "text-classification"}),
    ):
        model.objects.bulk_create(
            model(
                owner=user,
                name=f"{kind[:20]}-{index:04d}",
                arn=arn(kind, f"{kind[:20]}-{index:04d}", account_id=account),
                status=statuses[index % 3],
                failure_reason="AlgorithmError: s3://bench/train.csv line 7" if index % 3 else "",
                **extra,
            )
            for index in range(rows)
        )
    Model.objects.bulk_create(
        Model(
            owner=user,
            name=f"model-{i:04d}",
            arn=arn("model", f"model-{i:04d}", account_id=account),
        )
        for i in range(rows)
    )
    Endpoint.objects.bulk_create(
        Endpoint(
            owner=user,
            name=f"endpoint-{i:04d}",
            arn=arn("endpoint", f"endpoint-{i:04d}", account_id=account),
            status="InService" if i % 10 else "Failed",
            config_name="config",
        )
        for i in range(rows)
    )
    for model, kind, extra in (
        (EndpointConfig, "endpoint-config", {"spec": {"ProductionVariants": []}}),
        (ModelPackageGroup, "model-package-group", {"description": "a group"}),
        (Pipeline, "pipeline", {"definition": {}}),
    ):
        model.objects.bulk_create(
            model(
                owner=user,
                name=f"{kind[:20]}-{i:04d}",
                arn=arn(kind, f"{kind[:20]}-{i:04d}", account_id=account),
                **extra,
            )
            for i in range(rows)
        )
    PipelineExecution.objects.bulk_create(
        PipelineExecution(
            owner=user,
            pipeline=pipeline,
            name=f"run-{i:04d}",
            arn=f"{pipeline.arn}/execution/run-{i:04d}",
            status=statuses[i % 3],
            started_at=started,
        )
        for i, pipeline in enumerate(Pipeline.objects.filter(owner=user))
    )
    for index in range(rows):
        access_key_create(user=user, description=f"key {index}")
    bucket_create(user=user, name="bench")
    store = get_store()
    for index in range(rows):
        store.write_bytes(f"s3://bench/data/part-{index:04d}.csv", b"1,2,3\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=ROWS, help="rows of each list")
    args = parser.parse_args()
    setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    user = get_user_model().objects.create_user(username="bench", password="bench password 9")
    print(f"filling {args.rows} rows of each list…", file=sys.stderr)
    fill(user, args.rows)
    client = Client()
    client.force_login(user)
    pages = [
        "/",
        "/status/",
        "/training-jobs/",
        "/training-jobs/?sort=name&page=40",
        "/tuning-jobs/",
        "/models/",
        "/endpoints/",
        "/transform-jobs/",
        "/processing-jobs/",
        "/labeling-jobs/",
        "/endpoint-configs/",
        "/pipelines/",
        "/model-package-groups/",
        "/access-keys/",
        "/access-keys/?page=50",
        "/objects/",
        "/objects/bench/data/",
        "/objects/bench/data/?page=50",
        "/objects/preview?uri=s3://bench/data/part-0001.csv",
    ]
    print(f"{'page':<48} {'median ms':>10} {'max ms':>8} {'queries':>8}  goal {GOAL_MS} ms")
    over = 0
    for path in pages:
        with CaptureQueriesContext(connection) as queries:
            status = client.get(path).status_code  # warm: templates compiled, caches filled
        count = len(queries)  # now: the next request empties the log it reads
        times = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - start) * 1000)
        median = statistics.median(times)
        over += median > GOAL_MS
        flag = "" if status == 200 and median <= GOAL_MS else f"  <-- {status}"
        print(f"{path:<48} {median:>10.0f} {max(times):>8.0f} {count:>8}{flag}")
    sys.exit(1 if over else 0)


if __name__ == "__main__":
    main()
