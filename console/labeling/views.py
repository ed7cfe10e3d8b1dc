"""Console pages for labeling: jobs (list, create, detail, stop), work teams (list, create,
detail), and the labeler's work queue (the jobs waiting for me, one item at a time)."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST

from console.core import errors
from console.core.live import live_render
from console.core.views import (
    ResourceListPage,
    get_or_404,
    progress_cell,
    request_form_page,
    stop_view,
)
from console.labeling.forms import LabelingJobForm, WorkteamForm
from console.labeling.models import LabelingItem, LabelingJob
from console.labeling.selectors import (
    COUNTER_NAMES,
    labeling_items_disputed,
    labeling_job_describe,
    labeling_job_for_worker,
    labeling_job_get,
    labeling_job_list,
    labeling_job_rounds,
    labeling_jobs_for_worker,
    labeling_jobs_pending_for_worker,
    labeling_task_held,
    labeling_worker_progress,
    workteam_get,
    workteam_list,
    workteam_members,
)
from console.labeling.services import (
    labeling_job_create,
    labeling_job_stop,
    labeling_task_answer,
    labeling_task_next,
    labeling_task_skip,
    labeling_task_undo,
    workteam_create,
)

STATUSES = ["Initializing", "InProgress", "Completed", "Failed", "Stopping", "Stopped"]
DISPUTED_SHOWN = 100  # the owner's table of ties and disagreements, newest first


def job_progress(job: LabelingJob) -> dict:
    """LabelCounters with the share labeled, for a progress bar."""
    counters = {**dict.fromkeys(COUNTER_NAMES, 0), **job.label_counters}
    items = sum(counters[name] for name in COUNTER_NAMES[1:])
    percent = round(100 * counters["TotalLabeled"] / items) if items else 0
    return {**counters, "items": items, "percent": percent}


# Jobs (the owner's pages)


def _jobs_with_teams(*, user):
    return labeling_job_list(user=user).select_related("workteam")


def _workteam(job: LabelingJob) -> SafeString | str:
    if job.workteam is None:
        return ""
    url = reverse("workteam", args=[job.workteam.name])
    return format_html('<a href="{}">{}</a>', url, job.workteam.name)


def _labeled(job: LabelingJob) -> SafeString:
    progress = job_progress(job)
    labeled = f"{progress['TotalLabeled']} / {progress['items']}"
    return progress_cell(progress["percent"], labeled, title=f"{labeled} labeled")


def _counter(name: str):
    return lambda job: job_progress(job)[name]


labeling_jobs = ResourceListPage.as_view(
    title="Labeling jobs",
    template_name="labeling/job_list.html",
    selector=_jobs_with_teams,
    columns=[
        ("Name", "name"),
        ("Status", "status"),
        ("Work team", _workteam),
        ("Labeled", _labeled),
        ("Human", _counter("HumanLabeled")),
        ("Machine", _counter("MachineLabeled")),
        ("Unlabeled", _counter("Unlabeled")),
        ("Created", "created_at"),
    ],
    statuses=STATUSES,
    sagemaker_operation="CreateLabelingJob",
    detail_url_name="labeling-job",
    create_url_name="labeling-job-new",
)


@login_required
def labeling_job_detail(request, name: str):
    """The owner's page of a job; ``?fragment=status`` is all that changes as it runs (status,
    counters, rounds, disagreements), which the page polls."""
    job = get_or_404(labeling_job_get, user=request.user, name=name)
    described = labeling_job_describe(job)
    output_uri = described.get("LabelingJobOutput", {}).get("OutputDatasetS3Uri", "")
    final_model_arn = described.get("LabelingJobOutput", {}).get("FinalActiveLearningModelArn", "")
    disputed = labeling_items_disputed(job_id=job.pk).prefetch_related("answers__worker")
    return live_render(
        request,
        "labeling/job_detail.html",
        {
            "job": job,
            "described": described,
            "progress": job_progress(job),
            "rounds": labeling_job_rounds(job),
            "disputed": [_item_row(job, item) for item in disputed[:DISPUTED_SHOWN]],
            "disputed_count": disputed.count(),
            "output_uri": output_uri,
            "final_model_name": final_model_arn.rsplit("/", 1)[-1],
            "automated": "LabelingJobAlgorithmsConfig" in job.spec,
            "live": job.status in job.ACTIVE_STATUSES,
        },
        fragments={"status": "labeling/_live_status.html"},
    )


def _item_row(job: LabelingJob, item: LabelingItem) -> dict:
    votes = [(answer.worker.username, _label(job, answer.label)) for answer in item.answers.all()]
    return {"item": item, "label": _label(job, item.label), "votes": votes}


def _label(job: LabelingJob, index: int | None) -> str:
    if index is None or index >= len(job.categories):
        return ""
    return job.categories[index]


@login_required
def labeling_job_new(request):
    teams = [(team.arn, team.name) for team in workteam_list(user=request.user).order_by("name")]
    return request_form_page(
        request,
        LabelingJobForm(request.POST or None, workteams=teams),
        labeling_job_create,
        title="Create labeling job",
        list_url_name="labeling-jobs",
        list_label="Labeling jobs",
        detail_url_name="labeling-job",
        done="Labeling job {name} created.",
    )


labeling_job_stop_view = stop_view(
    labeling_job_stop, detail_url_name="labeling-job", message="Stopping labeling job {name}."
)


# Work teams


@login_required
def workteams(request):
    teams = workteam_list(user=request.user).order_by("name")
    return render(request, "labeling/workteam_list.html", {"teams": teams})


@login_required
def workteam_detail(request, name: str):
    team = get_or_404(workteam_get, user=request.user, name=name)
    return render(
        request,
        "labeling/workteam_detail.html",
        {
            "team": team,
            "members": workteam_members(team).order_by("username"),
            "jobs": team.labeling_jobs.order_by("-created_at"),
        },
    )


@login_required
def workteam_new(request):
    return request_form_page(
        request,
        WorkteamForm(request.POST or None),
        workteam_create,
        title="Create work team",
        list_url_name="workteams",
        list_label="Work teams",
        detail_url_name="workteam",
        done="Work team {name} created.",
    )


# The work queue (a labeler's pages)


@login_required
def labeling_queue(request):
    pending = labeling_jobs_pending_for_worker(user=request.user)
    rows = [(job, labeling_worker_progress(user=request.user, job=job)) for job in pending]
    others = (
        labeling_jobs_for_worker(user=request.user)
        .exclude(pk__in=[job.pk for job in pending])
        .order_by("-created_at")[:50]
    )
    return render(request, "labeling/queue.html", {"rows": rows, "others": others})


@login_required
def labeling_task(request, name: str):
    job = get_or_404(labeling_job_for_worker, user=request.user, name=name)
    wanted = request.GET.get("item", "")  # the item an undo gave back
    item = None
    if wanted.isdigit():
        item = labeling_task_held(user=request.user, job=job, index=int(wanted))
    if item is None:
        item = get_or_404(labeling_task_next, user=request.user, job=job)
    return render(
        request,
        "labeling/task.html",
        {
            "job": job,
            "item": item,
            "cells": _cells(item) if item is not None and job.task_type.startswith("tab") else [],
            "labels": list(enumerate(job.categories)),
            "progress": job_progress(job),
            "mine": labeling_worker_progress(user=request.user, job=job),
        },
    )


def _cells(item: LabelingItem) -> list[str]:
    """A tabular item's CSV row, as its cells."""
    return next(csv.reader([item.source]), [])


def _task_action(action):
    """A POST view running ``action(request, job, ...)`` (one service call) and going back to
    the task page (to the item the action returns, if it returns one); the service's refusal is
    shown there."""

    @login_required
    @require_POST
    def view(request, name: str, **kwargs):
        job = get_or_404(labeling_job_for_worker, user=request.user, name=name)
        item = None
        try:
            item = action(request, job, **kwargs)
        except errors.NotFound as exc:
            raise Http404(exc.message) from None
        except (errors.InvalidState, errors.ValidationError) as exc:
            messages.error(request, exc.message)
        url = reverse("labeling-task", kwargs={"name": job.name})
        return redirect(f"{url}?item={item.index}" if item is not None else url)

    return view


def _item(job: LabelingJob, index: int) -> LabelingItem:
    item = job.items.filter(index=index).first()
    if item is None:
        raise errors.NotFound("LabelingItem", f"{job.name}/{index}")
    return item


def _answer(request, job: LabelingJob, item: int) -> None:
    label = request.POST.get("label", "")
    labeling_task_answer(
        user=request.user, item=_item(job, item), label=int(label) if label.isdigit() else label
    )


def _skip(request, job: LabelingJob, item: int) -> None:
    labeling_task_skip(user=request.user, item=_item(job, item))


def _undo(request, job: LabelingJob) -> LabelingItem | None:
    item = labeling_task_undo(user=request.user, job=job)
    if item is None:
        messages.info(request, "You have no answer on this job to undo.")
    else:
        messages.success(request, f"Your answer on item {item.index + 1} was taken back.")
    return item


labeling_task_answer_view = _task_action(_answer)
labeling_task_skip_view = _task_action(_skip)
labeling_task_undo_view = _task_action(_undo)
