"""The step-scaling form of an endpoint variant: what it saves is the StepScaling policy that
Application Auto Scaling's DescribeScalingPolicies then answers, and a step whose bounds overlap
another's is refused at that step's row, in words, with nothing saved."""

from __future__ import annotations

import json

import pytest
from botocore.parsers import create_parser

from console.core.shapes import service_model
from console.sagemaker import views  # noqa: F401  (importing it registers every operation)
from tests.console.sagemaker.conftest import aws_call, redis_url, serving_redis  # noqa: F401
from tests.console.sagemaker.test_autoscaling import RESOURCE, serving_endpoint

pytestmark = pytest.mark.django_db
PAGE = "/endpoints/ep/variants/main/step-scaling"


def form(**fields) -> dict[str, str]:
    """A filled-in form: two steps below and above the alarm's threshold."""
    return {
        "rows": "2",
        "policy_name": "steps",
        "min_instances": "1",
        "max_instances": "4",
        "adjustment_type": "ChangeInCapacity",
        "cooldown": "30",
        "metric_aggregation_type": "Maximum",
        "min_adjustment_magnitude": "",
        "step_1_lower": "0",
        "step_1_upper": "10",
        "step_1_adjustment": "1",
        "step_2_lower": "10",
        "step_2_upper": "",
        "step_2_adjustment": "2",
        **fields,
    }


def described_policies(client, access_key) -> list[dict]:
    """DescribeScalingPolicies, as boto3 parses the answer."""
    body = json.dumps({"ServiceNamespace": "sagemaker", "ResourceId": RESOURCE}).encode()
    response = aws_call(
        client,
        access_key,
        body,
        target="AnyScaleFrontendService.DescribeScalingPolicies",
        service="application-autoscaling",
    )
    assert response.status_code == 200, response.content
    shape = (
        service_model("application-autoscaling")
        .operation_model("DescribeScalingPolicies")
        .output_shape
    )
    answer = {"body": response.content, "headers": dict(response.headers), "status_code": 200}
    policies = create_parser("json").parse(answer, shape)["ScalingPolicies"]
    for policy in policies:
        assert set(shape.members["ScalingPolicies"].member.required_members) <= set(policy)
    return policies


def test_the_form_saves_a_step_policy_the_api_describes(console, user, access_key, serving_redis):  # noqa: F811
    serving_endpoint(user)
    assert 'name="add_step"' in console.get(PAGE).content.decode()

    response = console.post(PAGE, form())

    assert response.status_code == 302 and response["Location"] == "/endpoints/ep/"
    [policy] = described_policies(console, access_key)
    assert (policy["PolicyName"], policy["PolicyType"]) == ("steps", "StepScaling")
    assert policy["StepScalingPolicyConfiguration"] == {
        "AdjustmentType": "ChangeInCapacity",
        "StepAdjustments": [
            {"MetricIntervalLowerBound": 0.0, "MetricIntervalUpperBound": 10.0,
             "ScalingAdjustment": 1},
            {"MetricIntervalLowerBound": 10.0, "ScalingAdjustment": 2},
        ],
        "Cooldown": 30,
        "MetricAggregationType": "Maximum",
    }  # fmt: skip
    # The endpoint's page lists it, with a link back to this form filled in to change it.
    page = console.get("/endpoints/ep/").content.decode()
    assert f'href="{PAGE}?policy=steps"' in page
    refilled = console.get(f"{PAGE}?policy=steps").content.decode()
    assert 'name="step_2_lower" value="10.0"' in refilled and 'value="4"' in refilled


def test_overlapping_steps_are_refused_at_the_step(console, user, access_key, serving_redis):  # noqa: F811
    serving_endpoint(user)

    response = console.post(PAGE, form(step_2_lower="5"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "overlap another step" in page and "Step 2: Lower bound" in page
    step = page.split('id="field-step_2_lower"')[1].split("</td>")[0]
    assert "errorlist" in step and "overlap another step" in step
    assert described_policies(console, access_key) == []
