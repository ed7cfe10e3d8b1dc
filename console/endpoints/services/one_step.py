"""Deploy in one step, as the SageMaker SDK's ``model.deploy()`` and ``estimator.deploy()`` do:
an endpoint config named after the endpoint with one variant, then the endpoint; from a training
job, first the model of its artifact and algorithm image, as CreateModel would register it.

Every step is the API's own service (CreateModel, CreateEndpointConfig, CreateEndpoint), inside
one transaction: a refused step leaves nothing behind.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from console.core.errors import AlreadyExists, InvalidState
from console.endpoints.models import Endpoint
from console.endpoints.services.configs import endpoint_config_create
from console.endpoints.services.endpoints import endpoint_create
from console.registry.selectors import model_containers, model_list
from console.registry.services import model_create
from console.training.models import TrainingJob
from console.training.selectors import training_job_get

VARIANT_NAME = "AllTraffic"  # the SageMaker SDK's variant of a one-model endpoint
ROLE_ARN = "arn:aws:iam::000000000000:role/sagebrush"  # when the job names none
DEPLOYABLE_STATUSES = ("Completed", "Stopped")  # a stopped job keeps the model saved so far


def endpoint_deploy_model(
    *, user, endpoint_name: str, model_name: str, instance_type: str, instance_count: int
) -> Endpoint:
    """CreateEndpointConfig (named ``endpoint_name``, one variant serving ``model_name``) and
    CreateEndpoint on it."""
    with transaction.atomic():
        endpoint_config_create(
            user=user,
            spec={
                "EndpointConfigName": endpoint_name,
                "ProductionVariants": [
                    {
                        "VariantName": VARIANT_NAME,
                        "ModelName": model_name,
                        "InstanceType": instance_type,
                        "InitialInstanceCount": instance_count,
                        "InitialVariantWeight": 1.0,
                    }
                ],
            },
        )
        return endpoint_create(
            user=user, spec={"EndpointName": endpoint_name, "EndpointConfigName": endpoint_name}
        )


def training_job_model_request(job: TrainingJob, *, model_name: str) -> dict[str, Any]:
    """The CreateModel request serving the job's artifact with its algorithm's image."""
    algorithm = job.spec.get("AlgorithmSpecification", {})
    return {
        "ModelName": model_name,
        "ExecutionRoleArn": job.spec.get("RoleArn") or ROLE_ARN,
        "PrimaryContainer": {
            "Image": algorithm.get("TrainingImage") or algorithm.get("AlgorithmName", ""),
            "ModelDataUrl": job.model_artifacts,
        },
    }


def endpoint_deploy_training_job(
    *,
    user,
    training_job_name: str,
    endpoint_name: str,
    model_name: str,
    instance_type: str,
    instance_count: int,
) -> Endpoint:
    """The job's model (created, or the one of that name already serving its artifact), then
    :func:`endpoint_deploy_model`."""
    job = training_job_get(user=user, name=training_job_name)
    if job.status not in DEPLOYABLE_STATUSES or not job.model_artifacts:
        raise InvalidState(
            f"Training job {job.name} is {job.status}: only a Completed job (or a Stopped one "
            "that saved a model) has a model to deploy."
        )
    request = training_job_model_request(job, model_name=model_name)
    with transaction.atomic():
        existing = model_list(user=user).filter(name=model_name).first()
        if existing is None:
            model_create(user=user, spec=request)
        elif not _serves(existing, request["PrimaryContainer"]):
            raise AlreadyExists(
                "Model",
                model_name,
                arn=existing.arn,
                message=f"A model named {model_name} already exists and serves another "
                "artifact: choose another model name.",
            )
        return endpoint_deploy_model(
            user=user,
            endpoint_name=endpoint_name,
            model_name=model_name,
            instance_type=instance_type,
            instance_count=instance_count,
        )


def _serves(model, container: dict[str, Any]) -> bool:
    """Whether the registered model is exactly this one container (same image, same artifact)."""
    containers = model_containers(model)
    return len(containers) == 1 and all(
        containers[0][key] == container[key] for key in ("Image", "ModelDataUrl")
    )
