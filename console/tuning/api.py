"""REST adapter for tuning jobs: `/api/v1/tuning-jobs/`.

``POST`` takes CreateHyperParameterTuningJob's request with snake_case names; a job reads as its
DescribeHyperParameterTuningJob response, snake_cased. ``trials/`` lists the trials as
ListTrainingJobsForHyperParameterTuningJob does, and ``surrogate/?parameter=`` gives the
surrogate model's mean and spread along one hyperparameter, for the console's chart.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from console.core.api_schema import describe_schema, responses
from console.core.api_views import (
    JOB_FIELDS,
    ResourceDetailView,
    ResourceListView,
    ResourceStopView,
)
from console.core.casing import to_snake
from console.core.errors import ValidationError
from console.tuning.analysis import tuning_job_surrogate
from console.tuning.describe import (
    TRIAL_SORT_KEYS,
    tuning_job_describe,
    tuning_job_trial_summaries,
)
from console.tuning.models import HyperParameterTuningJob
from console.tuning.selectors import tuning_job_get, tuning_job_list
from console.tuning.services import tuning_job_create, tuning_job_stop


class TuningJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = HyperParameterTuningJob
        fields = [*JOB_FIELDS, "best_training_job_name", "completion_reason"]


class TuningJobListView(ResourceListView):
    serializer_class = TuningJobSerializer
    selector = tuning_job_list
    create_service = tuning_job_create
    create_operation = "CreateHyperParameterTuningJob"
    describe = tuning_job_describe
    describe_operation = "DescribeHyperParameterTuningJob"


class TuningJobDetailView(ResourceDetailView):
    serializer_class = TuningJobSerializer
    selector = tuning_job_list
    describe = tuning_job_describe
    describe_operation = "DescribeHyperParameterTuningJob"


class TuningJobStopView(ResourceStopView):
    stop_service = tuning_job_stop


class TuningJobTrialsView(APIView):
    """``GET .../trials/?sort_by=FinalObjectiveMetricValue&sort_order=Descending&status=...``."""

    @extend_schema(
        parameters=[
            OpenApiParameter("sort_by", str, enum=list(TRIAL_SORT_KEYS)),
            OpenApiParameter("sort_order", str, enum=["Ascending", "Descending"]),
            OpenApiParameter("status", str),
        ],
        responses=responses(
            {200: describe_schema("ListTrainingJobsForHyperParameterTuningJob")}, 400, 404
        ),
    )
    def get(self, request, name: str):
        job = tuning_job_get(user=request.user, name=name)
        sort_by = request.query_params.get("sort_by", "Name")
        if sort_by not in TRIAL_SORT_KEYS:
            raise ValidationError("sort_by", f"Member must be one of {', '.join(TRIAL_SORT_KEYS)}")
        summaries = tuning_job_trial_summaries(
            job,
            status=request.query_params.get("status"),
            sort_by=sort_by,
            descending=request.query_params.get("sort_order") == "Descending",
        )
        body = to_snake(
            "ListTrainingJobsForHyperParameterTuningJob", {"TrainingJobSummaries": summaries}
        )
        return Response(body)


class TuningJobSurrogateView(APIView):
    """``GET .../surrogate/?parameter=learning_rate``: mean and ±1 std along one parameter."""

    @extend_schema(
        parameters=[OpenApiParameter("parameter", str)],
        responses=responses({200: OpenApiTypes.OBJECT}, 400, 404),
    )
    def get(self, request, name: str):
        job = tuning_job_get(user=request.user, name=name)
        return Response(tuning_job_surrogate(job, parameter=request.query_params.get("parameter")))
