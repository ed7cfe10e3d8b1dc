"""The console in a real browser (Debian's Chromium, Playwright), every page at a phone's width
(390 px) and again at a laptop's (1,280 px): no page is wider than the phone's screen, however
long a description, an ARN or an object key, axe-core finds no serious accessibility violation
at either width, and a destructive action asks first. axe-core is the npm package's own file,
vendored in tests/console/vendor (no CDN at test time).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from console.accounts.services import access_key_create
from console.core.names import account_id_for, arn
from console.endpoints.models import Endpoint, EndpointConfig, EndpointVariant
from console.endpoints.services.configs import endpoint_config_create
from console.labeling.models import LabelingItem, LabelingJob
from console.labeling.services import workteam_create
from console.pipelines.models import Pipeline, PipelineExecution, PipelineExecutionStep
from console.pipelines.services import pipeline_create
from console.processing.models import ProcessingJob, ProcessingLog
from console.registry.services import model_create, model_package_create, model_package_group_create
from console.training.models import TrainingJob
from console.transform.models import TransformJob
from console.tuning.models import HyperParameterTuningJob
from infra.storage import get_store
from tests.console.labeling.conftest import job_request as labeling_request
from tests.console.pipelines.definitions import chain
from tests.console.sagemaker.conftest import redis_url, serving_redis  # noqa: F401
from tests.console.test_transform import request as transform_request
from tests.console.test_tuning import request as tuning_request
from tests.flows.test_processing import request as processing_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WIDTH = 390
DESKTOP = 1280
LONG = ("a-very-long-description-without-any-space-" * 8)[:200]  # a key segment is a file name


@pytest.fixture(autouse=True)
def _playwright_may_run_beside_django(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
    # under one unless told the calls are made from synchronous test code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _content(user) -> list[str]:
    """Rows with the longest words a user writes, and the pages that show them."""
    access_key_create(user=user, description=LONG)
    name = "job-with-a-name-as-long-as-sagemaker-allows-it-sixty-three-chr"
    TrainingJob.objects.create(
        owner=user,
        name=name,
        arn=arn("training-job", name, account_id=account_id_for(user.pk)),
        status="Failed",
        failure_reason="AlgorithmError: " + LONG,
        spec={"AlgorithmSpecification": {"TrainingImage": "xgboost:1"}},
    )
    bucket = "layout-" + str(user.pk)
    get_store().create_bucket(bucket)
    from console.buckets.models import Bucket

    Bucket.objects.get_or_create(name=bucket, defaults={"owner": user})
    key = f"{LONG}/{LONG}.csv"
    get_store().write_bytes(f"s3://{bucket}/{key}", b"1,2,3\n" * 5)
    artifact = f"s3://{bucket}/{LONG}/model.tar.gz"
    get_store().write_bytes(artifact, b"a model")
    model_create(
        user=user,
        spec={
            "ModelName": name,
            "PrimaryContainer": {"Image": "lightgbm", "ModelDataUrl": artifact},
        },
    )
    pipeline_create(
        user=user,
        spec={
            "PipelineName": name,
            "PipelineDescription": LONG,
            "PipelineDefinition": json.dumps(chain(bucket)),
            "RoleArn": "arn:aws:iam::000000000000:role/sagebrush",
            "ClientRequestToken": "layout-" + "0" * 25,
        },
    )
    return [
        "/",
        "/training-jobs/",
        "/tuning-jobs/",
        "/models/",
        "/endpoints/",
        "/access-keys/",
        "/objects/",
        f"/objects/{bucket}/{LONG}/",
        f"/objects/preview?uri=s3://{bucket}/{key}",
        "/status/",
        # Details and forms: the long name and failure reason, every create form.
        f"/training-jobs/{name}/",
        f"/models/{name}/",
        f"/pipelines/{name}/",
        "/training-jobs/new",
        "/tuning-jobs/new",
        "/models/new",
        "/endpoint-configs/",
        "/endpoint-configs/new",
        "/endpoints/new",
        "/transform-jobs/",
        "/transform-jobs/new",
        "/processing-jobs/",
        "/processing-jobs/new",
        "/labeling-jobs/",
        "/labeling-jobs/new/",
        "/workteams/",
        "/workteams/new/",
        "/pipelines/",
        "/pipelines/new",
        "/model-package-groups/",
        *_detail_pages(user, name, bucket, artifact),
    ]


def _detail_pages(user, name: str, bucket: str, artifact: str) -> list[str]:
    """A row of every other kind, as its flow leaves it (failed where it can fail, so the
    longest reason shows), and its page; no flow runs."""
    account = account_id_for(user.pk)
    ended = {"status": "Failed", "failure_reason": "ClientError: " + LONG, "owner": user}

    tuning = HyperParameterTuningJob.objects.create(
        name=name, arn=arn("hyper-parameter-tuning-job", name, account_id=account), **ended
    )
    tuning.spec = tuning_request(bucket, name=name)
    tuning.save()
    for trial in (name[:-4] + "-001", name[:-4] + "-002"):
        TrainingJob.objects.create(
            name=trial,
            arn=arn("training-job", trial, account_id=account),
            tuning_job_arn=tuning.arn,
            spec={"HyperParameters": {"learning_rate": "0.0123456789", "num_leaves": "7"}},
            final_metrics={"validation:binary_logloss": 0.3456789},
            ended_at=timezone.now(),
            **ended,
        )
    # A second job beside the first, for the compare page.
    other = name[:-1] + "2"
    TrainingJob.objects.create(
        name=other,
        arn=arn("training-job", other, account_id=account),
        spec={
            "AlgorithmSpecification": {"TrainingImage": "xgboost:1"},
            "HyperParameters": {"objective": LONG[:120]},
        },
        final_metrics={"validation:a-metric-with-a-rather-long-name-indeed": 0.5},
        **ended,
    )

    endpoint_config_create(
        user=user,
        spec={
            "EndpointConfigName": name,
            "ProductionVariants": [
                {
                    "VariantName": name,
                    "ModelName": name,
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                    "InitialVariantWeight": 1.0,
                }
            ],
        },
    )
    endpoint = Endpoint.objects.create(
        name=name,
        arn=arn("endpoint", name, account_id=account),
        config=EndpointConfig.objects.get(name=name),
        config_name=name,
        **ended,
    )
    EndpointVariant.objects.create(
        endpoint=endpoint,
        name=name,
        deployment_id=f"{name}-0",
        model_name=name,
        containers=[{"Image": "lightgbm", "ModelDataUrl": artifact}],
    )

    TransformJob.objects.create(
        name=name,
        arn=arn("transform-job", name, account_id=account),
        spec=transform_request(bucket, name=name, ModelName=name),
        model_name=name,
        **ended,
    )
    processing = ProcessingJob.objects.create(
        name=name,
        arn=arn("processing-job", name, account_id=account),
        spec=processing_request(bucket, name=name),
        exit_message=LONG,
        **ended,
    )
    ProcessingLog.objects.create(job=processing, text=LONG + "\n")

    group = Group.objects.create(name="labelers-" + LONG[:40])
    user.groups.add(group)
    team = workteam_create(
        user=user,
        spec={
            "WorkteamName": name,
            "Description": LONG,
            "MemberDefinitions": [{"OidcMemberDefinition": {"Groups": [group.name]}}],
        },
    )
    labeling = LabelingJob.objects.create(
        name=name,
        arn=arn("labeling-job", name, account_id=account),
        owner=user,
        status="InProgress",
        spec=labeling_request(bucket, team.arn, name=name, LabelAttributeName=name),
        workteam=team,
        label_attribute_name=name,
        task_type="PRE-TextMultiClass",
        categories=["positive", LONG[:60]],
        label_counters={"Unlabeled": 1},
    )
    LabelingItem.objects.create(
        job=labeling, index=0, line={"source": LONG}, source=LONG, sent_to_humans=True
    )

    pipeline = Pipeline.objects.get(name=name)
    execution = PipelineExecution.objects.create(
        name="a1b2c3d4e5f6",
        arn=f"{pipeline.arn}/execution/a1b2c3d4e5f6",
        pipeline=pipeline,
        definition=pipeline.definition,
        description=LONG,
        parameters={"NumRound": 5, "Threshold": 1.0},
        **ended,
    )
    PipelineExecutionStep.objects.create(
        execution=execution,
        name="Train",
        type="Training",
        status="Failed",
        failure_reason=LONG,
        metadata={"TrainingJob": {"Arn": arn("training-job", name, account_id=account)}},
    )

    model_package_group_create(
        user=user,
        spec={"ModelPackageGroupName": name, "ModelPackageGroupDescription": LONG},
    )
    model_package_create(
        user=user,
        spec={
            "ModelPackageGroupName": name,
            "ModelPackageDescription": LONG,
            "InferenceSpecification": {
                "Containers": [{"Image": "lightgbm", "ModelDataUrl": artifact}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            "CustomerMetadataProperties": {"note": LONG},
        },
    )
    return [
        f"/tuning-jobs/{name}/",
        f"/training-jobs/compare?name={name}&name={other}",
        f"/endpoint-configs/{name}/",
        f"/endpoints/{name}/",
        f"/transform-jobs/{name}/",
        f"/processing-jobs/{name}/",
        f"/labeling-jobs/{name}/",
        "/labeling-queue/",
        f"/labeling-queue/{name}/",
        f"/workteams/{name}/",
        f"/pipelines/{name}/executions/{execution.name}/",
        f"/model-package-groups/{name}/",
        f"/model-package-groups/{name}/1/",
    ]


def test_pages_fit_a_phone_and_pass_axe(browser, live_server, user, serving_redis):  # noqa: F811
    # serving_redis: an endpoint's page reads its variants' health from the serving state.
    pages = _content(user)
    context = browser.new_context(viewport={"width": WIDTH, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    phone_problems(page, "/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "correct horse 9")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    problems = []
    for path in pages:
        response = page.goto(f"{live_server.url}{path}")
        if not response.ok:  # an error page would fit and pass axe, telling nothing
            problems.append(f"{path} answered {response.status}")
        problems += phone_problems(page, path)
    # The same pages on a laptop's screen, where other rules of the style sheet apply: axe only.
    page.set_viewport_size({"width": DESKTOP, "height": 800})
    for path in pages:
        page.goto(f"{live_server.url}{path}")
        problems += [f"{path} at {DESKTOP} px: {v}" for v in axe_violations(page)]
    assert not problems, "\n".join(problems)

    # A destructive action asks first: Cancel leaves the key active, "Yes" revokes it.
    page.goto(f"{live_server.url}/access-keys/")
    page.click("text=Revoke")
    page.click("dialog >> text=Cancel")
    assert page.locator("td .up").count() == 1
    page.click("text=Revoke")
    page.click("dialog >> text=Yes, go on")
    page.wait_for_selector("text=revoked")
    assert page.locator("td .up").count() == 0
    context.close()


def phone_problems(page, path: str) -> list[str]:
    problems = []
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > WIDTH:
        # The deepest elements that reach past the screen: where the overflow starts.
        culprits = page.evaluate(
            f"""() => [...document.querySelectorAll('body *')]
              .filter(e => e.getBoundingClientRect().right > {WIDTH} + 1)
              .filter(e => ![...e.children].some(
                  c => c.getBoundingClientRect().right > {WIDTH} + 1))
              .slice(0, 5)
              .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                   + (e.className ? '.' + String(e.className).split(' ').join('.') : ''))"""
        )
        problems.append(f"{path} is {width} px wide at {WIDTH} px: {', '.join(culprits)}")
    problems += [f"{path}: {violation}" for violation in axe_violations(page)]
    return problems


def axe_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as loaded."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
    )
