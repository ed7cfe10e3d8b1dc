"""Automated labeling: how much of a dataset the machine labels, and how well, per query strategy.

Run on demand (the suite does not): ``.venv/bin/python -m tests.benchmarks.bench_labeling``
(``--datasets digits`` or ``--datasets languages`` for one). Two datasets:

- scikit-learn's digits (1,797 rows of 64 pixels, 10 labels; the manifest's ``source`` is the
  CSV row);
- languages: sentences of three or more words from the gettext catalogs bundled in installed
  packages (Django's and its contrib apps' among them), English source strings and their
  German, French, Spanish and Italian translations, up to 300 of each (not the catalogs'
  headers): which language a sentence is in, a label a person who reads these languages gives
  reliably.

Each runs as a labeling job with ``LabelingJobAlgorithmsConfig`` through the labeling flow's
loop (:func:`flows.labeling.label_automatically`), with a simulated annotator answering every
waiting item with the truth through the work-queue services the console uses. The loop's model
is trained and applied in this process, by the same functions the ``auto-labeling`` built-in
runs in each round's training and transform jobs (a fitted classifier, and k-fold held-out
probabilities): the benchmark measures the labeling method, not the jobs around it. Per query
strategy (least-confidence, margin, entropy), and for a plain loop (random human batches, a
fixed threshold of 0.9, no calibration), it prints the share machine-labeled, the measured
accuracy of the machine labels against the truth, the human answers used, the rounds and the
wall time. Beside each dataset, its ceiling: the accuracy of the same model trained on every
true label (5-fold), and the share of items it is 95 % right on.

Goal: >= 85 % machine-labeled with a measured machine-label accuracy >= 95 %.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sysconfig
import tempfile
import time
import types
import uuid
import warnings
from pathlib import Path

LANGUAGES = {"English": "en", "German": "de", "French": "fr", "Spanish": "es", "Italian": "it"}
PER_LANGUAGE = 300
MIN_WORDS = 3
ALGORITHM_ARN = (
    "arn:aws:sagemaker:us-east-1:027400017018:labeling-job-algorithm-specification/"
    "text-classification"
)
FIXED_THRESHOLD = 0.9


def digits() -> tuple[list[str], list[int], list[str]]:
    from sklearn.datasets import load_digits

    data = load_digits()
    rows = [",".join(str(int(v)) for v in row) for row in data.data]
    return rows, [int(t) for t in data.target], [str(n) for n in range(10)]


def languages() -> tuple[list[str], list[int], list[str]]:
    """Sentences of each language; a sentence met in an earlier language (an untranslated
    string) is left to that one."""
    texts, truth, seen = [], [], set()
    for label, code in enumerate(LANGUAGES.values()):
        # English is every catalog's source language: the German catalogs' msgids.
        found = catalog_strings("de", "msgid") if code == "en" else catalog_strings(code, "msgstr")
        found = [t for t in found if len(t.split()) >= MIN_WORDS and t not in seen][:PER_LANGUAGE]
        seen.update(found)
        texts += found
        truth += [label] * len(found)
    return texts, truth, list(LANGUAGES)


def catalog_strings(code: str, keyword: str) -> list[str]:
    """The ``keyword`` strings of every installed ``<code>`` gettext catalog, in path order."""
    site = sysconfig.get_paths()["purelib"]
    out: list[str] = []
    for path in sorted(glob.glob(f"{site}/**/locale/{code}/LC_MESSAGES/*.po", recursive=True)):
        current: list[str] | None = None
        for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(f'{keyword} "'):
                current = [line[len(keyword) + 2 : -1]]
            elif line.startswith('"') and current is not None:
                current.append(line[1:-1])
            else:
                if current:
                    text = " ".join("".join(current).replace("\\n", " ").split())
                    # not the catalog's header (the msgstr of msgid ""): metadata, no sentence
                    if text and not text.startswith("Project-Id-Version:"):
                        out.append(text)
                current = None
    return list(dict.fromkeys(out))


def ceiling(texts: list[str], truth: list[int]) -> str:
    """How well the loop's model does with every label: 5-fold accuracy, and the largest share of
    items above a confidence threshold whose held-out labels are 95 % right."""
    import numpy as np

    from algorithms import active_learning

    labels = np.array(truth)
    featurizer = active_learning.fit_featurizer("text-classification", texts)
    probs = active_learning.held_out_probabilities(featurizer, texts, labels, int(labels.max()) + 1)
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == labels
    calibration = active_learning.calibrate_threshold(confidence, correct, z=0.0)
    share = calibration.support / len(texts) if calibration else 0.0
    return f"ceiling: {correct.mean():.1%} accurate with every label; {share:.1%} at >= 95 %"


def in_process_rounds(task_type: str, classes: int):
    """Each round's model as the auto-labeling built-in trains and applies it, in this process."""
    import numpy as np

    from algorithms import active_learning
    from flows.labeling_rounds import RoundModel

    def train(number: int, labeled, pool, machine_labeled) -> RoundModel:
        sources = [source for _, source, _ in labeled]
        unlabeled = [source for _, source in pool]
        labels = np.array([label for _, _, label in labeled])
        others = [source for _, source in machine_labeled]
        featurizer = active_learning.fit_featurizer(task_type, sources + unlabeled + others)
        classifier = active_learning.fit_classifier(featurizer, sources, labels, classes)
        return RoundModel(
            pool_probabilities=classifier.probabilities(unlabeled),
            held_out=active_learning.held_out_probabilities(featurizer, sources, labels, classes),
            held_out_labels=labels,
        )

    return train


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
    from console.buckets.services import bucket_create
    from console.labeling import services
    from console.labeling.models import HumanAnswer, LabelingJob
    from infra.storage import get_store

    store, bucket = get_store(), f"bench-{uuid.uuid4().hex[:8]}"
    bucket_create(user=owner, name=bucket)  # jobs reach only their owner's buckets
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
    status = labeling_flow.label_automatically(
        job.pk,
        poll_seconds=0,
        settings=settings,
        rounds=in_process_rounds(job.task_type, len(categories)),
    )
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="digits,languages")
    parser.add_argument("--loops", default="least-confidence,margin,entropy,plain")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        owner, worker, team = prepare(Path(tmp))
        from algorithms.active_learning import DEFAULT_QUERY_STRATEGY
        from flows.labeling import LoopSettings

        variants = {
            "least-confidence": LoopSettings("least-confidence"),
            "margin": LoopSettings("margin"),
            "entropy": LoopSettings("entropy"),
            "plain": LoopSettings("random", fixed_threshold=FIXED_THRESHOLD),
        }
        variants = {name: variants[name] for name in args.loops.split(",")}
        datasets = {"digits": digits, "languages": languages}
        header = f"{'dataset':<10} {'loop':<28} {'items':>5} {'machine':>8} {'accuracy':>9} "
        print(header + f"{'answers':>8} {'rounds':>6} {'wall s':>7}  goal")
        for dataset in args.datasets.split(","):
            texts, truth, categories = datasets[dataset]()
            print(f"{dataset:<10} {ceiling(texts, truth)}", flush=True)
            for number, (variant, settings) in enumerate(variants.items()):
                result = run_one(
                    owner, worker, team, f"{dataset}-{number}", texts, truth, categories, settings
                )
                met = result["machine"] >= 0.85 and result["accuracy"] >= 0.95
                label = (
                    f"plain (random, fixed {FIXED_THRESHOLD})" if variant == "plain" else variant
                )
                if variant == DEFAULT_QUERY_STRATEGY:
                    label += " (default)"
                print(
                    f"{dataset:<10} {label:<28} {len(texts):>5} {result['machine']:>8.1%} "
                    f"{result['accuracy']:>9.1%} {result['answers']:>8} {result['rounds']:>6} "
                    f"{result['wall']:>7.1f}  {'met' if met else 'not met'}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
