"""Every write to labeling: work teams, jobs (adapters and the flow's reports) and human tasks."""

from console.labeling.services.jobs import (
    DEPLOYMENT,
    label_index,
    labeling_items_machine_label,
    labeling_items_send_to_humans,
    labeling_job_checkpoint,
    labeling_job_create,
    labeling_job_fail,
    labeling_job_finish,
    labeling_job_round_record,
    labeling_job_start,
    labeling_job_stop,
)
from console.labeling.services.tasks import (
    labeling_task_answer,
    labeling_task_next,
    labeling_task_skip,
    labeling_task_undo,
)
from console.labeling.services.workteams import workteam_create, workteam_delete, workteam_update

__all__ = [
    "DEPLOYMENT",
    "label_index",
    "labeling_items_machine_label",
    "labeling_items_send_to_humans",
    "labeling_job_checkpoint",
    "labeling_job_create",
    "labeling_job_fail",
    "labeling_job_finish",
    "labeling_job_round_record",
    "labeling_job_start",
    "labeling_job_stop",
    "labeling_task_answer",
    "labeling_task_next",
    "labeling_task_skip",
    "labeling_task_undo",
    "workteam_create",
    "workteam_delete",
    "workteam_update",
]
