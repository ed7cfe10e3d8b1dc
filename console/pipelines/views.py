"""Console pages for pipelines: the list, the builder of the common chain, a pipeline with its
step graph, executions and schedules, and one execution with each step's state (refreshed in place
while it runs)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from console.core import errors
from console.core.live import live_render
from console.core.views import ResourceListPage, get_or_404
from console.labeling.selectors import workteam_list
from console.pipelines.forms import PipelineBuilderForm
from console.pipelines.graph import step_graph
from console.pipelines.selectors import (
    pipeline_execution_by_name,
    pipeline_execution_list,
    pipeline_execution_steps,
    pipeline_get,
    pipeline_list,
    pipeline_schedule_describe,
)
from console.pipelines.services import (
    pipeline_create,
    pipeline_definition_check,
    pipeline_execution_stop,
)
from infra.prefect import flow_run_url

pipelines = ResourceListPage.as_view(
    title="Pipelines",
    selector=pipeline_list,
    columns=[
        ("Name", "name"),
        ("Display name", "display_name"),
        ("Status", "status"),
        ("Last run", "last_run_at"),
        ("Created", "created_at"),
    ],
    statuses=["Active", "Deleting"],
    sagemaker_operation="CreatePipeline",
    detail_url_name="pipeline",
    create_url_name="pipeline-new",
)


@login_required
def pipeline_new(request):
    """The builder: "Preview" shows the definition and its graph, checked as CreatePipeline
    checks it; "Create pipeline" creates it through CreatePipeline's service."""
    teams = [(team.arn, team.name) for team in workteam_list(user=request.user).order_by("name")]
    form = PipelineBuilderForm(request.POST or None, workteams=teams)
    preview = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            definition = form.checked_definition()
            if definition is not None:
                preview = {
                    "json": json.dumps(definition.document, indent=2),
                    "graph": step_graph(definition, {}),
                }
        else:
            created = form.submit(pipeline_create, user=request.user)
            if created is not None:
                messages.success(request, f"Pipeline {created.name} created.")
                return redirect("pipeline", name=created.name)
    return render(request, "pipelines/builder.html", {"form": form, "preview": preview})


@login_required
def pipeline(request, name: str):
    """A pipeline's page; ``?fragment=status`` is its latest steps, executions and schedules
    alone, which the page polls."""
    row = get_or_404(pipeline_get, user=request.user, name=name)
    executions = list(
        pipeline_execution_list(user=request.user, pipeline=row).order_by("-created_at")[:50]
    )
    latest = executions[0] if executions else None
    statuses = {s.name: s.status for s in pipeline_execution_steps(latest)} if latest else {}
    definition = pipeline_definition_check(row.definition)
    return live_render(
        request,
        "pipelines/pipeline.html",
        {
            "pipeline": row,
            "graph": step_graph(definition, statuses),
            "latest": latest,
            "parameters": definition.parameters.values(),
            "executions": [{"row": e} for e in executions],
            "schedules": [pipeline_schedule_describe(s) for s in row.schedules.all()],
            "live": any(e.status in e.ACTIVE_STATUSES for e in executions),
        },
        fragments={"status": "pipelines/_live_pipeline.html"},
    )


@login_required
def pipeline_execution(request, name: str, execution_id: str):
    """One execution's page; ``?fragment=status`` is its state and steps alone, which the page
    polls while it runs."""
    execution = get_or_404(
        pipeline_execution_by_name, user=request.user, pipeline=name, name=execution_id
    )
    steps = list(pipeline_execution_steps(execution))
    definition = pipeline_definition_check(execution.definition)
    return live_render(
        request,
        "pipelines/execution.html",
        {
            "execution": execution,
            "pipeline": execution.pipeline,
            "graph": step_graph(definition, {s.name: s.status for s in steps}),
            "steps": [
                {
                    "row": s,
                    "job_arn": next(iter(s.metadata.values()), {}).get("Arn", "")
                    if s.metadata
                    else "",
                }
                for s in steps
            ],
            "flow_run_url": flow_run_url(execution.flow_run_id) if execution.flow_run_id else None,
            "live": execution.status in execution.ACTIVE_STATUSES,
        },
        fragments={"status": "pipelines/_live_execution.html"},
    )


@login_required
@require_POST
def pipeline_execution_stop_view(request, name: str, execution_id: str):
    execution = get_or_404(
        pipeline_execution_by_name, user=request.user, pipeline=name, name=execution_id
    )
    try:
        pipeline_execution_stop(user=request.user, execution_arn=execution.arn)
        messages.success(request, f"Stopping execution {execution_id}.")
    except errors.InvalidState as exc:
        messages.error(request, exc.message)
    return redirect("pipeline-execution", name=name, execution_id=execution_id)
