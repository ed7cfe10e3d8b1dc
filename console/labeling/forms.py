"""The console's labeling forms: CreateLabelingJob and CreateWorkteam, checked by the same
services as the APIs.

The forms only shape input (types, choices); every rule is the service's, so a request the
SageMaker or REST API refuses is refused here with the same reason, shown next to its field.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import Group

from console.core.forms import RequestForm
from console.labeling.services.jobs import labeling_categories_write
from console.labeling.specs import TASK_TYPES
from console.training.forms import ROLE_ARN

# Which form field shows an error about which part of the request (longest prefix first).
_JOB_FIELD_OF = [
    ("LabelingJobName", "name"),
    ("LabelAttributeName", "label_attribute_name"),
    ("InputConfig", "manifest_uri"),
    ("OutputConfig", "output_path"),
    ("LabelCategoryConfigS3Uri", "categories_uri"),
    ("LabelCategories", "categories"),
    ("HumanTaskConfig.WorkteamArn", "workteam"),
    ("HumanTaskConfig.NumberOfHumanWorkersPerDataObject", "workers_per_object"),
    ("HumanTaskConfig.TaskTimeLimitInSeconds", "task_time_limit"),
    ("HumanTaskConfig.TaskTitle", "task_title"),
    ("HumanTaskConfig.TaskDescription", "task_description"),
    ("HumanTaskConfig.PreHumanTaskLambdaArn", "task_type"),
    ("LabelingJobAlgorithmsConfig", "automated_labeling"),
]
# Ground Truth's pre-annotation Lambda of each task type, and its automated-labeling algorithm.
LAMBDA_ARN = "arn:aws:lambda:us-east-1:432418664414:function:{function}"
ALGORITHM_ARN = (
    "arn:aws:sagemaker:us-east-1:027400017018:labeling-job-algorithm-specification/{task_type}"
)
TASK_TYPE_LABELS = {
    "text-classification": "Text classification (single label)",
    "image-classification": "Image classification (single label)",
    "tabular-classification": "Tabular classification (a CSV row, single label)",
}


class LabelingJobForm(RequestForm):
    name = forms.CharField(label="Job name", max_length=63)
    manifest_uri = forms.CharField(
        label="Input manifest S3 URI",
        max_length=1024,
        help_text='JSON Lines: "source" for text or a CSV row, "source-ref" for images',
    )
    categories_uri = forms.CharField(
        label="Label category file S3 URI",
        max_length=1024,
        required=False,
        help_text="or type the labels below",
    )
    categories = forms.CharField(
        label="Labels",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="one a line; written to object storage as the job's category file",
    )
    label_attribute_name = forms.CharField(label="Label attribute name", max_length=127)
    task_type = forms.ChoiceField(
        choices=[(function, TASK_TYPE_LABELS[kind]) for function, kind in TASK_TYPES.items()]
    )
    task_title = forms.CharField(max_length=128, required=False, help_text="the job name if empty")
    task_description = forms.CharField(
        max_length=255, required=False, help_text="what the labelers should do"
    )
    workteam = forms.ChoiceField(label="Work team")
    workers_per_object = forms.IntegerField(label="Workers per object", initial=1)
    task_time_limit = forms.IntegerField(label="Task time limit (s)", initial=300)
    output_path = forms.CharField(label="Output S3 path", max_length=1024)
    automated_labeling = forms.BooleanField(
        label="Automated labeling",
        required=False,
        help_text="train on the human labels and machine-label the items it is sure of",
    )

    FIELD_OF = _JOB_FIELD_OF

    def __init__(self, *args, workteams: list[tuple[str, str]], **kwargs) -> None:
        """``workteams``: ``(arn, name)`` of the work teams the user may use."""
        super().__init__(*args, **kwargs)
        self.fields["workteam"].choices = workteams

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("categories_uri") and data.get("categories", "").strip():
            self.add_error("categories", "Give a category file or type the labels, not both.")
        return data

    def typed_labels(self) -> list[str]:
        return self.cleaned_data["categories"].splitlines()

    def to_request(self) -> dict[str, Any]:
        """The CreateLabelingJob request these (cleaned) values make."""
        data = self.cleaned_data
        task_type = TASK_TYPES[data["task_type"]]
        spec: dict[str, Any] = {
            "LabelingJobName": data["name"],
            "LabelAttributeName": data["label_attribute_name"],
            "InputConfig": {
                "DataSource": {"S3DataSource": {"ManifestS3Uri": data["manifest_uri"]}}
            },
            "OutputConfig": {"S3OutputPath": data["output_path"]},
            "RoleArn": ROLE_ARN,
            "HumanTaskConfig": {
                "WorkteamArn": data["workteam"],
                "UiConfig": {},
                "PreHumanTaskLambdaArn": LAMBDA_ARN.format(function=data["task_type"]),
                "TaskTitle": data["task_title"] or data["name"],
                "TaskDescription": data["task_description"] or TASK_TYPE_LABELS[task_type],
                "NumberOfHumanWorkersPerDataObject": data["workers_per_object"],
                "TaskTimeLimitInSeconds": data["task_time_limit"],
            },
        }
        if data["categories_uri"]:
            spec["LabelCategoryConfigS3Uri"] = data["categories_uri"]
        if data["automated_labeling"]:
            spec["LabelingJobAlgorithmsConfig"] = {
                "LabelingJobAlgorithmSpecificationArn": ALGORITHM_ARN.format(task_type=task_type)
            }
        return spec

    def submit(self, create, **kwargs: Any) -> Any | None:
        """As RequestForm's, writing typed labels to object storage first (through the service
        that owns that write) when no category file was named."""
        typed = [label for label in self.typed_labels() if label.strip()]
        if not typed:
            return super().submit(create, **kwargs)

        def create_with_categories(*, user, spec: dict[str, Any], **rest: Any) -> Any:
            spec["LabelCategoryConfigS3Uri"] = labeling_categories_write(
                user=user, spec=spec, labels=typed
            )
            return create(user=user, spec=spec, **rest)

        return super().submit(create_with_categories, **kwargs)


class WorkteamForm(RequestForm):
    name = forms.CharField(label="Work team name", max_length=63)
    description = forms.CharField(max_length=200)
    groups = forms.MultipleChoiceField(
        label="Platform groups",
        required=False,
        help_text="the users in these groups are the team's labelers",
    )

    FIELD_OF = [
        ("WorkteamName", "name"),
        ("Description", "description"),
        ("MemberDefinitions", "groups"),
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        names = Group.objects.order_by("name").values_list("name", flat=True)
        self.fields["groups"].choices = [(name, name) for name in names]

    def to_request(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "WorkteamName": data["name"],
            "Description": data["description"],
            "MemberDefinitions": [{"OidcMemberDefinition": {"Groups": data["groups"]}}],
        }
