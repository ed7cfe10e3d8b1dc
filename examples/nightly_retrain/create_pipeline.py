"""Create (or update) the nightly retrain pipeline with boto3 and give it a nightly schedule.

    AWS_ENDPOINT_URL=http://127.0.0.1:8000 AWS_ACCESS_KEY_ID=SBAK... AWS_SECRET_ACCESS_KEY=... \\
    AWS_DEFAULT_REGION=us-east-1 python examples/nightly_retrain/create_pipeline.py \\
        --workteam-arn arn:aws:sagemaker:...:workteam/private-crowd/annotators

The pipeline (``pipeline.json``) labels the night's manifest, tunes LightGBM on it, registers the
best model and, only if its validation loss beats the live model's, deploys it blue/green and
records its loss as the live one. This script uploads the recording step's code, seeds the live
objective (no model is live yet: any model beats it), creates or updates the pipeline, and attaches
a cron schedule through the REST API (schedules are not a SageMaker API).
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import boto3

HERE = Path(__file__).resolve().parent
DEFINITION = HERE / "pipeline.json"
RECORD_SCRIPT = HERE / "record_live.py"
# What BeatsLive compares with before any model is live: a loss every model beats.
NO_LIVE_MODEL = {"objective": 1e9}
ROLE_ARN = "arn:aws:iam::000000000000:role/sagebrush"


def definition() -> dict:
    return json.loads(DEFINITION.read_text())


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def upload_record_script(s3, uri: str) -> None:
    bucket, key = _split(uri)
    s3.put_object(Bucket=bucket, Key=key, Body=RECORD_SCRIPT.read_bytes())


def seed_live_objective(s3, live_prefix: str) -> bool:
    """Write the starting objective unless a model is live already; True if it wrote one."""
    bucket, key = _split(live_prefix.rstrip("/") + "/objective.json")
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return False
    except s3.exceptions.ClientError as error:
        if error.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(NO_LIVE_MODEL).encode())
    return True


def upsert_pipeline(sm, *, name: str, role_arn: str) -> str:
    """UpdatePipeline of the pipeline if it exists, else CreatePipeline; returns its ARN."""
    body = json.dumps(definition())
    try:
        sm.describe_pipeline(PipelineName=name)
    except sm.exceptions.ResourceNotFound:
        return sm.create_pipeline(
            PipelineName=name,
            PipelineDefinition=body,
            PipelineDescription="Nightly retrain: label, tune, register, deploy if better",
            RoleArn=role_arn,
        )["PipelineArn"]
    return sm.update_pipeline(PipelineName=name, PipelineDefinition=body, RoleArn=role_arn)[
        "PipelineArn"
    ]


def attach_schedule(
    url: str,
    access_key: tuple[str, str],
    *,
    pipeline: str,
    parameters: dict[str, str],
    cron: str = "0 2 * * *",
    timezone: str = "UTC",
    schedule_name: str = "nightly",
) -> dict:
    """POST /api/v1/pipelines/<pipeline>/schedules/: a Prefect schedule of the pipeline."""
    body = {
        "schedule_name": schedule_name,
        "cron": cron,
        "timezone": timezone,
        "pipeline_parameters": [{"name": k, "value": v} for k, v in parameters.items()],
    }
    request = urllib.request.Request(
        f"{url.rstrip('/')}/api/v1/pipelines/{pipeline}/schedules/",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {access_key[0]}:{access_key[1]}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise SystemExit(f"schedule refused ({error.code}): {error.read().decode()}") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", default="nightly-retrain")
    parser.add_argument("--role-arn", default=ROLE_ARN)
    parser.add_argument("--workteam-arn", required=True)
    parser.add_argument("--cron", default="0 2 * * *")
    parser.add_argument("--timezone", default="UTC")
    args = parser.parse_args()

    url = os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:8000")
    session = boto3.Session()
    credentials = session.get_credentials()
    sm, s3 = session.client("sagemaker", endpoint_url=url), session.client("s3", endpoint_url=url)
    defaults = {p["Name"]: p.get("DefaultValue") for p in definition()["Parameters"]}
    upload_record_script(s3, defaults["RecordScriptUri"])
    seed_live_objective(s3, defaults["LivePrefix"])
    arn = upsert_pipeline(sm, name=args.name, role_arn=args.role_arn)
    schedule = attach_schedule(
        url,
        (credentials.access_key, credentials.secret_key),
        pipeline=args.name,
        parameters={"WorkteamArn": args.workteam_arn},
        cron=args.cron,
        timezone=args.timezone,
    )
    print(f"{arn}: schedule {schedule['schedule_name']} ({args.cron} {args.timezone})")


if __name__ == "__main__":
    main()
