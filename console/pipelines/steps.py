"""The step types a pipeline can run, one entry each: the request its ``Arguments`` are, what its
properties are read from, and the platform services that create, describe and stop its job.

A job kind joins pipelines by adding one :class:`StepKind` to :func:`step_kinds`. Sagebrush adds
two deployment steps with the SDK's own type names: ``EndpointConfig`` (Arguments: a
CreateEndpointConfig request) and ``Endpoint`` (Arguments: a CreateEndpoint request; an endpoint
that exists already is updated to the config, blue/green, as UpdateEndpoint does), and one step
SageMaker has none of: ``Labeling`` (Arguments: a CreateLabelingJob request).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from console.core.errors import NotFound
from console.pipelines.definition import StepType


@dataclass(frozen=True)
class StepKind:
    """A step type as the engine runs it. ``create(user=, spec=)`` makes the job (or resource);
    ``describe(row)`` is its Describe* response; ``stop(user=, name=)`` asks a running job to stop;
    ``status`` reads its status from a row; a kind with no ``running`` statuses is done once
    created."""

    definition: StepType
    metadata_key: str = ""
    create: Callable[..., Any] | None = None
    describe: Callable[[Any], dict[str, Any]] | None = None
    stop: Callable[..., None] | None = None
    running: tuple[str, ...] = ()
    succeeded: tuple[str, ...] = ()
    max_name_length: int = 63
    extra: dict[str, Any] = field(default_factory=dict)


def _training() -> StepKind:
    from console.training.selectors import training_job_describe
    from console.training.services import training_job_create, training_job_stop

    return StepKind(
        StepType(
            "CreateTrainingJob",
            "TrainingJobName",
            ("DescribeTrainingJobResponse",),
            required=("AlgorithmSpecification", "ResourceConfig", "StoppingCondition"),
        ),
        metadata_key="TrainingJob",
        create=training_job_create,
        describe=training_job_describe,
        stop=training_job_stop,
        running=("InProgress", "Stopping"),
        succeeded=("Completed",),
    )


def _tuning_describe(job) -> dict[str, Any]:
    """DescribeHyperParameterTuningJob, plus the trials best first (``TrainingJobSummaries``)."""
    from console.tuning.describe import tuning_job_describe, tuning_job_trial_summaries
    from console.tuning.selectors import tuning_job_objective

    objective_type, _ = tuning_job_objective(job)
    summaries = tuning_job_trial_summaries(
        job, sort_by="FinalObjectiveMetricValue", descending=objective_type == "Maximize"
    )
    return {**tuning_job_describe(job), "TrainingJobSummaries": summaries}


def _tuning() -> StepKind:
    from console.tuning.services import tuning_job_create, tuning_job_stop

    return StepKind(
        StepType(
            "CreateHyperParameterTuningJob",
            "HyperParameterTuningJobName",
            ("DescribeHyperParameterTuningJobResponse",),
            extra_properties={"TrainingJobSummaries": "HyperParameterTrainingJobSummaries"},
        ),
        metadata_key="TuningJob",
        create=tuning_job_create,
        describe=_tuning_describe,
        stop=tuning_job_stop,
        running=("InProgress", "Stopping"),
        succeeded=("Completed",),
        max_name_length=32,
    )


def _transform() -> StepKind:
    from console.transform.selectors import transform_job_describe
    from console.transform.services import transform_job_create, transform_job_stop

    return StepKind(
        StepType("CreateTransformJob", "TransformJobName", ("DescribeTransformJobResponse",)),
        metadata_key="TransformJob",
        create=transform_job_create,
        describe=transform_job_describe,
        stop=transform_job_stop,
        running=("InProgress", "Stopping"),
        succeeded=("Completed",),
    )


def _model() -> StepKind:
    from console.registry.selectors import model_describe
    from console.registry.services import model_create

    return StepKind(
        StepType("CreateModel", "ModelName", ("DescribeModelOutput",)),
        metadata_key="Model",
        create=model_create,
        describe=model_describe,
    )


def _register_model_create(*, user, spec: dict[str, Any], source: str = ""):
    """CreateModelPackage, creating a missing group first (the SDK does not, in a pipeline)."""
    from console.registry.selectors import model_package_group_get
    from console.registry.services import model_package_create, model_package_group_create

    group = spec.get("ModelPackageGroupName")
    if group:
        try:
            model_package_group_get(user=user, name=group)
        except NotFound:
            model_package_group_create(user=user, spec={"ModelPackageGroupName": group})
    return model_package_create(user=user, spec=spec, source=source)


def _register_model() -> StepKind:
    from console.registry.selectors import model_package_describe

    return StepKind(
        StepType("CreateModelPackage", None, ("DescribeModelPackageOutput",)),
        metadata_key="RegisterModel",
        create=_register_model_create,
        describe=model_package_describe,
    )


def _labeling() -> StepKind:
    from console.labeling.selectors import labeling_job_describe
    from console.labeling.services import labeling_job_create, labeling_job_stop

    return StepKind(
        StepType("CreateLabelingJob", "LabelingJobName", ("DescribeLabelingJobResponse",)),
        # SageMaker has no labeling step: its generic ``Job`` metadata is what boto3 reads back.
        metadata_key="Job",
        create=labeling_job_create,
        describe=labeling_job_describe,
        stop=labeling_job_stop,
        running=("Initializing", "InProgress", "Stopping"),
        succeeded=("Completed",),
    )


def _processing() -> StepKind | None:
    """Processing steps, once the processing app has its services (issue 21)."""
    try:
        services = importlib.import_module("console.processing.services")
        selectors = importlib.import_module("console.processing.selectors")
    except ImportError:
        return None
    create = getattr(services, "processing_job_create", None)
    describe = getattr(selectors, "processing_job_describe", None)
    if create is None or describe is None:
        return None
    return StepKind(
        StepType("CreateProcessingJob", "ProcessingJobName", ("DescribeProcessingJobResponse",)),
        metadata_key="ProcessingJob",
        create=create,
        describe=describe,
        stop=getattr(services, "processing_job_stop", None),
        running=("InProgress", "Stopping"),
        succeeded=("Completed",),
    )


def _endpoint_config() -> StepKind:
    from console.endpoints.selectors import endpoint_config_describe
    from console.endpoints.services.configs import endpoint_config_create

    return StepKind(
        StepType("CreateEndpointConfig", "EndpointConfigName", ("DescribeEndpointConfigOutput",)),
        metadata_key="EndpointConfig",
        create=endpoint_config_create,
        describe=endpoint_config_describe,
    )


def _endpoint_create_or_update(*, user, spec: dict[str, Any]):
    """CreateEndpoint, or UpdateEndpoint (blue/green) of an endpoint that exists already."""
    from console.endpoints.selectors import endpoint_list
    from console.endpoints.services.endpoints import endpoint_create, endpoint_update

    if endpoint_list(user=user).filter(name=spec["EndpointName"]).exists():
        update = {key: spec[key] for key in ("EndpointName", "EndpointConfigName")}
        return endpoint_update(user=user, spec=update)
    return endpoint_create(user=user, spec=spec)


def _endpoint() -> StepKind:
    from console.endpoints.selectors import endpoint_describe

    return StepKind(
        StepType("CreateEndpoint", "EndpointName", ("DescribeEndpointOutput",)),
        metadata_key="Endpoint",
        create=_endpoint_create_or_update,
        describe=endpoint_describe,
        running=("Creating", "Updating"),
        succeeded=("InService",),
    )


@functools.cache
def step_kinds() -> dict[str, StepKind]:
    kinds = {
        "Training": _training(),
        "Tuning": _tuning(),
        "Transform": _transform(),
        "Model": _model(),
        "RegisterModel": _register_model(),
        "Condition": StepKind(StepType(extra_properties={"Outcome": "Boolean"})),
        "Fail": StepKind(StepType()),
        "Labeling": _labeling(),
        "EndpointConfig": _endpoint_config(),
        "Endpoint": _endpoint(),
    }
    processing = _processing()
    if processing is not None:
        kinds["Processing"] = processing
    return kinds


def step_types() -> dict[str, StepType]:
    """What the definition checks need: each type's request and properties."""
    return {name: kind.definition for name, kind in step_kinds().items()}
