"""Automated labeling: how much of a dataset the machine labels, and how well, per query strategy.

Run on demand (the suite does not): ``.venv/bin/python -m tests.benchmarks.bench_labeling``.
Two datasets: scikit-learn's digits (1,797 rows of 64 pixels, 10 labels; the manifest's
``source`` is the CSV row) and a text set built from bundled data (the docstrings, up to 2,000
characters, of four groups of Python packages: mail and markup, networking, concurrency,
numerics; 350 of each). Each runs as a labeling job with ``LabelingJobAlgorithmsConfig``
through the labeling flow's loop, with a simulated annotator answering every waiting item with
the truth through the work-queue services the console uses. Per query strategy
(least-confidence, margin, entropy), and for a plain loop (random human batches, a fixed 0.95
threshold, no calibration), it prints the share machine-labeled, the measured accuracy of the
machine labels against the truth, the human answers used and the wall time. Beside each
dataset, its ceiling: the accuracy of the same model trained on every true label (5-fold), and
the share of items it is 95 % right on.

Goal: >= 85 % machine-labeled with a measured machine-label accuracy >= 95 %.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import tempfile
import time
import types
import uuid
import warnings
from pathlib import Path

TEXT_GROUPS = {
    "mail-and-markup": ["email", "html", "xml", "json", "csv"],
    "networking": ["http", "urllib", "socket", "ssl", "ftplib", "smtplib", "imaplib", "poplib"],
    "concurrency": ["asyncio", "concurrent", "multiprocessing", "threading", "queue"],
    "numerics": [
        "numpy.polynomial",
        "numpy.linalg",
        "numpy.fft",
        "numpy.random",
        "statistics",
        "fractions",
        "decimal",
        "scipy.linalg",
        "scipy.optimize",
    ],
}
PER_GROUP = 350
ALGORITHM_ARN = (
    "arn:aws:sagemaker:us-east-1:027400017018:labeling-job-algorithm-specification/"
    "text-classification"
)
FIXED_THRESHOLD = 0.95


def digits() -> tuple[list[str], list[int], list[str]]:
    from sklearn.datasets import load_digits

    data = load_digits()
    rows = [",".join(str(int(v)) for v in row) for row in data.data]
    return rows, [int(t) for t in data.target], [str(n) for n in range(10)]


def docstrings() -> tuple[list[str], list[int], list[str]]:
    """The docstring of each documented function, class and method of each group."""
    texts, truth, seen = [], [], set()
    for label, packages in enumerate(TEXT_GROUPS.values()):
        found = [p for p in _paragraphs(packages) if p not in seen]
        seen.update(found)
        texts += found[:PER_GROUP]
        truth += [label] * len(found[:PER_GROUP])
    return texts, truth, list(TEXT_GROUPS)


def _paragraphs(packages: list[str]) -> list[str]:
    out: list[str] = []
    for name in packages:
        modules = [importlib.import_module(name)]
        for info in pkgutil.walk_packages(getattr(modules[0], "__path__", []), name + "."):
            if "test" in info.name:
                continue
            try:
                modules.append(importlib.import_module(info.name))
            except BaseException:  # a module that needs what is not installed, or exits
                continue
        for module in modules:
            for obj in _documented(module, name):
                doc = inspect.getdoc(obj)
                if doc:
                    out.append(" ".join(doc.split())[:2000])
    return list(dict.fromkeys(p for p in out if len(p) >= 40))


def _documented(module, package: str) -> list:
    objs = []
    for _, obj in inspect.getmembers(module):
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if not getattr(obj, "__module__", "").startswith(package):
            continue
        objs.append(obj)
        if inspect.isclass(obj):
            objs += [v for v in vars(obj).values() if inspect.isfunction(v)]
    return objs


def ceiling(texts: list[str], truth: list[int]) -> str:
    """How well the loop's model does with every label: 5-fold accuracy, and the largest share of
    items above a confidence threshold whose held-out labels are 95 % right."""
    import numpy as np
    from sklearn.model_selection import cross_val_predict

    from algorithms import active_learning

    labels = np.array(truth)
    features = active_learning.featurize("text-classification", texts)
    model = active_learning.new_model(features, labels)
    probs = cross_val_predict(model, features, labels, cv=5, method="predict_proba")
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == labels
    calibration = active_learning.calibrate_threshold(confidence, correct, z=0.0)
    share = calibration.support / len(texts) if calibration else 0.0
    return f"ceiling: {correct.mean():.1%} accurate with every label; {share:.1%} at >= 95 %"


def prepare(data_dir: Path):
    os.environ.update(DATA_DIR=str(data_dir))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import infra.prefect
    from console.labeling.services import workteam_create

    # The flow runs in this process: no Prefect run is started for a job.
    infra.prefect.start_flow_run = lambda deployment, parameters: uuid.uuid4()
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    owner = users.create_user(username="owner", password="x horse 99")
    worker = users.create_user(username="annotator", password="x horse 99")
    worker.groups.add(Group.objects.create(name="annotators"))
    team = workteam_create(
        user=owner,
        spec={
            "WorkteamName": "annotators",
            "Description": "Simulated annotators",
            "MemberDefinitions": [{"OidcMemberDefinition": {"Groups": ["annotators"]}}],
        },
    )
    return owner, worker, team


def run_one(owner, worker, team, name, texts, truth, categories, settings) -> dict:
    import flows.labeling as labeling_flow
    from console.labeling import services
    from console.labeling.models import HumanAnswer, LabelingJob
    from infra.storage import get_store

    store, bucket = get_store(), f"bench-{uuid.uuid4().hex[:8]}"
    store.create_bucket(bucket)
    lines = "".join(json.dumps({"source": text}) + "\n" for text in texts)
    store.write_bytes(f"s3://{bucket}/in.manifest", lines.encode())
    labels = {"document-version": "2018-11-28", "labels": [{"label": c} for c in categories]}
    store.write_bytes(f"s3://{bucket}/categories.json", json.dumps(labels).encode())
    spec = {
        "LabelingJobName": name,
        "LabelAttributeName": "label",
        "InputConfig": {
            "DataSource": {"S3DataSource": {"ManifestS3Uri": f"s3://{bucket}/in.manifest"}}
        },
        "OutputConfig": {"S3OutputPath": f"s3://{bucket}/out"},
        "RoleArn": "arn:aws:iam::000000000000:role/labeling",
        "LabelCategoryConfigS3Uri": f"s3://{bucket}/categories.json",
        "HumanTaskConfig": {
            "WorkteamArn": team.arn,
            "UiConfig": {"UiTemplateS3Uri": f"s3://{bucket}/template.liquid"},
            "TaskTitle": "Label",
            "TaskDescription": "Pick the label",
            "NumberOfHumanWorkersPerDataObject": 1,
            "TaskTimeLimitInSeconds": 300,
        },
        "LabelingJobAlgorithmsConfig": {"LabelingJobAlgorithmSpecificationArn": ALGORITHM_ARN},
    }
    job = services.labeling_job_create(user=owner, spec=spec)

    def answer_all(_seconds: float) -> None:
        while (item := services.labeling_task_next(user=worker, job=job)) is not None:
            services.labeling_task_answer(user=worker, item=item, label=truth[item.index])

    labeling_flow.time = types.SimpleNamespace(monotonic=time.monotonic, sleep=answer_all)
    started = time.perf_counter()
    services.labeling_job_start(job_id=job.pk)
    status = labeling_flow.label_automatically(job.pk, poll_seconds=0, settings=settings)
    services.labeling_job_finish(job_id=job.pk, status=status)
    wall = time.perf_counter() - started
    job = LabelingJob.objects.get(pk=job.pk)
    machine = list(job.items.filter(state="machine").values_list("index", "label"))
    right = sum(label == truth[index] for index, label in machine)
    return {
        "status": job.status,
        "machine": len(machine) / len(texts),
        "accuracy": right / len(machine) if machine else float("nan"),
        "answers": HumanAnswer.objects.filter(item__job=job).count(),
        "rounds": job.rounds.count(),
        "wall": wall,
    }


def main() -> None:
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        owner, worker, team = prepare(Path(tmp))
        from flows.labeling import LoopSettings

        variants = {
            "least-confidence": LoopSettings("least-confidence"),
            "margin": LoopSettings("margin"),
            "entropy": LoopSettings("entropy"),
            f"plain (random, fixed {FIXED_THRESHOLD})": LoopSettings(
                "random", fixed_threshold=FIXED_THRESHOLD
            ),
        }
        datasets = {"digits": digits(), "docstrings": docstrings()}
        header = f"{'dataset':<11} {'loop':<28} {'items':>5} {'machine':>8} {'accuracy':>9} "
        print(header + f"{'answers':>8} {'rounds':>6} {'wall s':>7}  goal")
        for dataset, (texts, truth, categories) in datasets.items():
            print(f"{dataset:<11} {ceiling(texts, truth)}", flush=True)
            for number, (variant, settings) in enumerate(variants.items()):
                result = run_one(
                    owner, worker, team, f"{dataset}-{number}", texts, truth, categories, settings
                )
                met = result["machine"] >= 0.85 and result["accuracy"] >= 0.95
                print(
                    f"{dataset:<11} {variant:<28} {len(texts):>5} {result['machine']:>8.1%} "
                    f"{result['accuracy']:>9.1%} {result['answers']:>8} {result['rounds']:>6} "
                    f"{result['wall']:>7.1f}  {'met' if met else 'not met'}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
