"""The console's "new endpoint" page, ``/endpoints/new``: from an endpoint config, or in one step
from ``?model=<name>``, ``?training_job=<name>`` (its model is registered from the job's artifact
and algorithm image) or ``?tuning_job=<name>`` (its best trial's model)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse

from console.core.views import get_or_404
from console.endpoints.config_views import newest_names
from console.endpoints.forms import DeployForm, EndpointForm
from console.endpoints.selectors import endpoint_config_list
from console.endpoints.services.endpoints import endpoint_create
from console.endpoints.services.one_step import (
    DEPLOYABLE_STATUSES,
    VARIANT_NAME,
    endpoint_deploy_model,
    endpoint_deploy_training_job,
)
from console.registry.selectors import model_get, model_list
from console.training.selectors import training_job_get
from console.tuning.describe import tuning_job_describe
from console.tuning.selectors import tuning_job_get

TEMPLATE = "endpoints/endpoint_new.html"


@login_required
def endpoint_new(request):
    if name := request.GET.get("model"):
        return _deploy_model(request, name)
    if name := request.GET.get("training_job"):
        job = get_or_404(training_job_get, user=request.user, name=name)
        return _deploy_training_job(request, job, facts=[])
    if name := request.GET.get("tuning_job"):
        return _deploy_best_trial(request, name)
    return _from_config(request)


def _from_config(request):
    configs = newest_names(endpoint_config_list(user=request.user))
    form = EndpointForm(
        request.POST or None, initial={"config": request.GET.get("config", "")}, configs=configs
    )
    if request.method == "POST" and form.is_valid():
        endpoint = form.submit(endpoint_create, user=request.user)
        if endpoint is not None:
            return _created(request, endpoint, "")
    return render(
        request,
        TEMPLATE,
        {
            "form": form,
            "title": "Create endpoint",
            "submit": "Create endpoint",
            "no_configs": not configs,
            "models": newest_names(model_list(user=request.user)),
        },
    )


def _deploy_model(request, name: str):
    model = get_or_404(model_get, user=request.user, name=name)
    form = DeployForm(request.POST or None, new_model=False, initial={"endpoint_name": model.name})
    if request.method == "POST" and form.is_valid():
        endpoint = form.attempt(
            lambda: endpoint_deploy_model(
                user=request.user, model_name=model.name, **form.arguments()
            )
        )
        if endpoint is not None:
            return _created(request, endpoint, f"serving model {model.name}")
    facts = [("Model", model.name, reverse("model", args=[model.name]))]
    return _deploy_page(request, form, facts, title=f"Deploy model {model.name}")


def _deploy_training_job(request, job, *, facts: list):
    form = DeployForm(
        request.POST or None,
        new_model=True,
        initial={"endpoint_name": job.name, "model_name": job.name},
    )
    if request.method == "POST" and form.is_valid():
        endpoint = form.attempt(
            lambda: endpoint_deploy_training_job(
                user=request.user, training_job_name=job.name, **form.arguments()
            )
        )
        if endpoint is not None:
            model = form.cleaned_data["model_name"]
            return _created(request, endpoint, f"serving model {model} of training job {job.name}")
    algorithm = job.spec.get("AlgorithmSpecification", {})
    facts = [
        *facts,
        ("Training job", job.name, reverse("training-job", args=[job.name])),
        ("Status", job.status, ""),
        ("Algorithm", algorithm.get("TrainingImage") or algorithm.get("AlgorithmName", ""), ""),
        ("Model artifact", job.model_artifacts or "none yet", ""),
    ]
    deployable = job.status in DEPLOYABLE_STATUSES and bool(job.model_artifacts)
    return _deploy_page(
        request,
        form,
        facts,
        title=f"Deploy training job {job.name}",
        blocked=""
        if deployable
        else (f"This job is {job.status}: it can be deployed once it has completed with a model."),
    )


def _deploy_best_trial(request, name: str):
    tuning = get_or_404(tuning_job_get, user=request.user, name=name)
    tuning_facts = [("Tuning job", tuning.name, reverse("tuning-job", args=[tuning.name]))]
    best = tuning_job_describe(tuning).get("BestTrainingJob")
    if best is None:
        return render(
            request,
            TEMPLATE,
            {
                "title": f"Deploy the best trial of {tuning.name}",
                "facts": tuning_facts,
                "blocked": "No trial has ended with an objective value yet: nothing to deploy.",
            },
        )
    objective = best.get("FinalHyperParameterTuningJobObjectiveMetric", {})
    job = get_or_404(training_job_get, user=request.user, name=best["TrainingJobName"])
    tuning_facts.append(
        (
            "Best trial's objective",
            f"{objective.get('MetricName', '')} = {objective.get('Value')}",
            "",
        )
    )
    return _deploy_training_job(request, job, facts=tuning_facts)


def _deploy_page(request, form: DeployForm, facts: list, *, title: str, blocked: str = ""):
    return render(
        request,
        TEMPLATE,
        {
            "form": form,
            "title": title,
            "facts": facts,
            "blocked": blocked,
            "submit": "Deploy",
            "one_step": f"An endpoint config of the same name, with one variant "
            f"({VARIANT_NAME}), and the endpoint on it are created together.",
        },
    )


def _created(request, endpoint, what: str):
    messages.success(
        request,
        f"Endpoint {endpoint.name} is being created{' ' + what if what else ''}; "
        "it takes requests once it is InService.",
    )
    return redirect("endpoint", name=endpoint.name)
