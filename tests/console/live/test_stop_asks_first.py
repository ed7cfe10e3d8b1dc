"""Every button that stops a running job or deletes an endpoint asks first: its form carries
``data-confirm`` (console.js shows it in a dialog), a sentence naming what it stops."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from console.endpoints.models import Endpoint
from console.training.models import TrainingJob
from tests.console.live.conftest import job_row
from tests.console.live.test_fragments import execution, labeling, processing, transform, tuning
from tests.console.live.test_training_live import SPEC as TRAINING_SPEC

pytestmark = pytest.mark.django_db


def training(user):
    job_row(TrainingJob, user, "churn", "training-job", spec=TRAINING_SPEC)
    return "/training-jobs/churn/"


def endpoint(user):
    Endpoint.objects.create(owner=user, name="live", arn="arn:aws:sagemaker:::endpoint/live")
    return "/endpoints/live/"


# (the page's row, the form's action, what the question names)
ACTIONS = [
    (training, reverse("training-job-stop", args=["churn"]), "Stop training job churn?"),
    (lambda user: tuning(user)[1], reverse("tuning-job-stop", args=["tune"]), "tuning job tune?"),
    (lambda user: transform(user)[1], reverse("transform-job-stop", args=["score"]), "score?"),
    (lambda user: processing(user)[1], reverse("processing-job-stop", args=["prep"]), "prep?"),
    (lambda user: labeling(user)[1], reverse("labeling-job-stop", args=["films"]), "films?"),
    (
        lambda user: execution(user)[1],
        reverse("pipeline-execution-stop", args=["chain", "run1"]),
        "Stop execution run1 of chain?",
    ),
    (endpoint, reverse("endpoint-delete", args=["live"]), "Delete endpoint live?"),
]


@pytest.mark.parametrize(
    ("make", "action", "question"), ACTIONS, ids=[action for _, action, _ in ACTIONS]
)
def test_a_destructive_button_asks_first_saying_what_it_does(console, user, make, action, question):
    page = console.get(make(user)).content.decode()
    forms = re.findall(r"<form\b[^>]*>", page)
    form = next((tag for tag in forms if f'action="{action}"' in tag), None)
    assert form is not None, f"no form posting to {action}"
    confirm = re.search(r'data-confirm="([^"]+)"', form)
    assert confirm is not None, form
    assert question in html.unescape(confirm.group(1))
