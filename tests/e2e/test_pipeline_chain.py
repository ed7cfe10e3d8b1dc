"""The whole chain from boto3 alone, as the shipped nightly-retrain example defines it
(``examples/nightly_retrain``): Labeling (automated, a simulated annotator answering through the
REST work queue) → Tuning → RegisterModel → Condition (the new best loss beats the live model's) →
Model → EndpointConfig → Endpoint → the live loss recorded. The example's own script uploads the
recording step, seeds the live loss, creates the pipeline and attaches its nightly schedule; only
the parameters are the test's (a small data set).

Three executions: the first labels, tunes, registers and creates the endpoint; the second, with
unchanged inputs, reuses the cached steps and skips deployment (its loss does not beat the live
one, its own); the third compares with a worse live loss and updates the endpoint blue/green.
"""

from __future__ import annotations

import importlib.util
import json
import time
import uuid

import pytest

from tests.e2e.test_labeling import TOPICS, VOCABULARY, annotator, rest, reviews
from tests.stack import REPO, STACK_START_S

pytestmark = pytest.mark.e2e

EXAMPLE = REPO / "examples" / "nightly_retrain"
ITEMS = 240
JOB_STEPS = {"Label": "Job", "Tune": "TuningJob", "Register": "RegisterModel"}
DEPLOY_STEPS = {
    "Model": "Model",
    "DeployConfig": "EndpointConfig",
    "Deploy": "Endpoint",
    "RecordLive": "ProcessingJob",
}


def example():
    """The example's script, as a module (``examples/`` is not a package)."""
    spec = importlib.util.spec_from_file_location("create_pipeline", EXAMPLE / "create_pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_data(stack, bucket: str) -> None:
    """The night's items (a manifest with the text people read and the counts the model trains
    on), the categories, and a fixed validation set (label, counts) to score every model on."""
    store = stack.store
    lines, _ = reviews(ITEMS, seed=3)
    manifest = [{"source": line["source"], "features": line["counts"]} for line in lines]
    store.write_bytes(
        f"s3://{bucket}/incoming/items.manifest",
        "".join(json.dumps(line) + "\n" for line in manifest).encode(),
    )
    categories = {"document-version": "2018-11-28", "labels": [{"label": t} for t in TOPICS]}
    store.write_bytes(f"s3://{bucket}/config/categories.json", json.dumps(categories).encode())
    held_out, labels = reviews(90, seed=4)
    rows = "".join(
        f"{label},{line['counts']}\n" for line, label in zip(held_out, labels, strict=True)
    )
    store.write_bytes(f"s3://{bucket}/validation/validation.csv", rows.encode())


def steps_of(sm, arn: str) -> dict[str, dict]:
    listed = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    return {step["StepName"]: step for step in listed}


def labeling_job_named(sm, arn: str) -> str:
    """The job's name (its ARN spells it in lower case): a step's job is named after the
    execution, ``pipelines-<execution id>-<step>-<random>``."""
    listed = sm.list_labeling_jobs(NameContains="pipelines-", MaxResults=100)[
        "LabelingJobSummaryList"
    ]
    return next(job["LabelingJobName"] for job in listed if job["LabelingJobArn"] == arn)


def tuning_job_named(sm, arn: str) -> str:
    listed = sm.list_hyper_parameter_tuning_jobs(NameContains="pipelines-", MaxResults=100)[
        "HyperParameterTuningJobSummaries"
    ]
    return next(
        job["HyperParameterTuningJobName"]
        for job in listed
        if job["HyperParameterTuningJobArn"] == arn
    )


def live_config_arn(sm, endpoint: str) -> str:
    name = sm.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    return sm.describe_endpoint_config(EndpointConfigName=name)["EndpointConfigArn"]


def label_until_done(stack, sm, arn: str, key: tuple[str, str], truth: list[int]) -> str:
    """Answer the Label step's labeling job's tasks, as its annotator, until the job ends."""
    deadline = time.monotonic() + 60
    while "Job" not in (steps_of(sm, arn).get("Label", {}).get("Metadata") or {}):
        assert time.monotonic() < deadline, steps_of(sm, arn)
        time.sleep(0.5)
    job = labeling_job_named(sm, steps_of(sm, arn)["Label"]["Metadata"]["Job"]["Arn"])
    deadline = time.monotonic() + 180
    while sm.describe_labeling_job(LabelingJobName=job)["LabelingJobStatus"] in (
        "Initializing",
        "InProgress",
    ):
        assert time.monotonic() < deadline, sm.describe_labeling_job(LabelingJobName=job)
        status, task = rest(stack, key, f"/api/v1/labeling-jobs/{job}/tasks/next/")
        if status == 204:
            time.sleep(0.5)
            continue
        assert status == 200, task
        status, answered = rest(
            stack,
            key,
            f"/api/v1/labeling-jobs/{job}/tasks/{task['item']}/answer/",
            {"label": truth[task["item"]]},
        )
        assert status == 200, answered
    return job


def wait(sm, arn: str, *, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while (described := sm.describe_pipeline_execution(PipelineExecutionArn=arn))[
        "PipelineExecutionStatus"
    ] in ("Executing", "Stopping"):
        assert time.monotonic() < deadline, steps_of(sm, arn)
        time.sleep(1)
    return described


def live_loss(stack, bucket: str, prefix: str) -> dict:
    return json.loads(stack.store.read_bytes(f"s3://{bucket}/{prefix}/objective.json"))


@pytest.mark.timeout(STACK_START_S + 540)
def test_the_nightly_retrain_example_labels_tunes_registers_and_deploys_only_a_better_model(
    stack,
):
    sm, s3 = stack.sagemaker, stack.client("s3")
    bucket = f"retrain-{uuid.uuid4().hex[:8]}"
    stack.store.create_bucket(bucket)
    write_data(stack, bucket)
    _, truth = reviews(ITEMS, seed=3)
    key = annotator(stack, "chain-annotator", "chain-annotators")
    team = sm.create_workteam(
        WorkteamName="chain-team",
        Description="Category annotators",
        MemberDefinitions=[{"OidcMemberDefinition": {"Groups": ["chain-annotators"]}}],
    )["WorkteamArn"]

    script = example()
    parameters = {
        "InputManifestUri": f"s3://{bucket}/incoming/items.manifest",
        "LabelCategoryConfigUri": f"s3://{bucket}/config/categories.json",
        "WorkteamArn": team,
        "HumanTaskBatch": "40",
        "ValidationDataUri": f"s3://{bucket}/validation/",
        "BoostRounds": "20",
        "MaxTrainingJobs": "2",
        "MaxParallelTrainingJobs": "2",
        "OutputPath": f"s3://{bucket}/pipeline",
        "ModelPackageGroupName": "chain-retrain",
        "EndpointName": "chain-retrain",
        "LivePrefix": f"s3://{bucket}/live",
        "RecordScriptUri": f"s3://{bucket}/code/record_live.py",
    }
    script.upload_record_script(s3, parameters["RecordScriptUri"])
    assert script.seed_live_objective(s3, parameters["LivePrefix"]) is True
    assert script.seed_live_objective(s3, parameters["LivePrefix"]) is False  # never overwrites
    pipeline_arn = script.upsert_pipeline(sm, name="chain-retrain", role_arn=script.ROLE_ARN)
    assert script.upsert_pipeline(sm, name="chain-retrain", role_arn=script.ROLE_ARN) == (
        pipeline_arn
    )
    schedule = script.attach_schedule(
        stack.url,
        (stack.access_key_id, stack.secret_access_key),
        pipeline="chain-retrain",
        parameters=parameters,
    )
    assert (schedule["schedule_name"], schedule["cron"]) == ("nightly", "0 2 * * *"), schedule
    code, schedule = stack.rest("GET", "/api/v1/pipelines/chain-retrain/schedules/nightly/")
    assert (code, schedule["applied"]) == (200, True), schedule
    # Nightly runs are not this test's: the schedule goes before it could fire.
    assert stack.rest("DELETE", "/api/v1/pipelines/chain-retrain/schedules/nightly/")[0] == 204
    given = [{"Name": name, "Value": value} for name, value in parameters.items()]

    # 1. Label (people, then the model), tune, register; no model is live: deploy and record it.
    first = sm.start_pipeline_execution(PipelineName="chain-retrain", PipelineParameters=given)[
        "PipelineExecutionArn"
    ]
    labeling_job = label_until_done(stack, sm, first, key, truth)
    described = wait(sm, first)
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    steps = steps_of(sm, first)
    assert set(steps) == {"Label", "Tune", "Register", "BeatsLive", *DEPLOY_STEPS}
    for name, key_name in {**JOB_STEPS, **DEPLOY_STEPS}.items():
        assert steps[name]["StepStatus"] == "Succeeded", steps[name]
        assert steps[name]["Metadata"][key_name]["Arn"].startswith("arn:aws:sagemaker:"), name
    assert steps["BeatsLive"]["Metadata"]["Condition"]["Outcome"] == "True"
    labeled = sm.describe_labeling_job(LabelingJobName=labeling_job)
    assert labeled["LabelingJobArn"] == steps["Label"]["Metadata"]["Job"]["Arn"]
    assert labeled["LabelCounters"]["MachineLabeled"] > 0, labeled["LabelCounters"]
    tuning = sm.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning_job_named(
            sm, steps["Tune"]["Metadata"]["TuningJob"]["Arn"]
        )
    )
    best = tuning["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    package = sm.describe_model_package(
        ModelPackageName=steps["Register"]["Metadata"]["RegisterModel"]["Arn"]
    )
    assert package["ModelPackageGroupName"] == "chain-retrain"
    assert float(package["CustomerMetadataProperties"]["validation:multi_logloss"]) == best
    endpoint = sm.describe_endpoint(EndpointName="chain-retrain")
    assert endpoint["EndpointStatus"] == "InService"
    first_config = steps["DeployConfig"]["Metadata"]["EndpointConfig"]["Arn"]
    assert live_config_arn(sm, "chain-retrain") == first_config
    assert live_loss(stack, bucket, "live")["objective"] == best
    row = ",".join("1" if word in TOPICS["sport"].split() else "0" for word in VOCABULARY)
    answer = stack.runtime.invoke_endpoint(
        EndpointName="chain-retrain", ContentType="text/csv", Body=row
    )
    assert answer["Body"].read()

    # 2. Unchanged inputs: the job steps reuse the first run's; the loss is the live one's, so
    # the condition fails and nothing is deployed.
    second = sm.start_pipeline_execution(PipelineName="chain-retrain", PipelineParameters=given)[
        "PipelineExecutionArn"
    ]
    described = wait(sm, second, timeout=60)
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    again = steps_of(sm, second)
    assert set(again) == {"Label", "Tune", "Register", "BeatsLive"}
    for name, key_name in JOB_STEPS.items():
        assert again[name]["CacheHitResult"]["SourcePipelineExecutionArn"] == first, name
        assert again[name]["Metadata"][key_name] == steps[name]["Metadata"][key_name]
    assert again["BeatsLive"]["Metadata"]["Condition"]["Outcome"] == "False"
    assert live_config_arn(sm, "chain-retrain") == first_config

    # 3. Against a worse live loss the same model wins: the endpoint is updated blue/green.
    stack.store.write_bytes(f"s3://{bucket}/worse/objective.json", b'{"objective": 100.0}')
    worse = [
        {"Name": name, "Value": value}
        for name, value in {**parameters, "LivePrefix": f"s3://{bucket}/worse"}.items()
    ]
    third = sm.start_pipeline_execution(PipelineName="chain-retrain", PipelineParameters=worse)[
        "PipelineExecutionArn"
    ]
    described = wait(sm, third, timeout=150)
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    updated = steps_of(sm, third)
    assert "CacheHitResult" in updated["Tune"]
    new_config = updated["DeployConfig"]["Metadata"]["EndpointConfig"]["Arn"]
    assert new_config != first_config
    assert sm.describe_endpoint(EndpointName="chain-retrain")["EndpointStatus"] == "InService"
    assert live_config_arn(sm, "chain-retrain") == new_config
    assert live_loss(stack, bucket, "worse")["objective"] == best
    executions = sm.list_pipeline_executions(PipelineName="chain-retrain")
    assert {e["PipelineExecutionArn"] for e in executions["PipelineExecutionSummaries"]} == {
        first,
        second,
        third,
    }
