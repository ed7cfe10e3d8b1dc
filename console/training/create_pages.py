"""The create pages of the jobs that run one algorithm, training and tuning jobs alike: a clone
(``?clone=<job>``) or a picked algorithm (``?algorithm=``) fills the form in, a valid POST goes to
the job's create service, and the algorithm's own fields come alone as the user picks one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from console.training.forms import AlgorithmJobForm


@dataclass(frozen=True)
class AlgorithmJobCreatePages:
    """What a job kind's create pages are made of; :meth:`create_view` and :meth:`fields_view`
    are the two views."""

    form: type[AlgorithmJobForm]
    create: Callable[..., Any]  # the service: create(spec=, user=)
    clone_initial: Callable[[Any, str], dict[str, Any]]  # (request, job name): a copy's values
    template: str
    fields_template: str  # the chosen algorithm's fields, which the page swaps in
    title: str
    created: str  # the message once created, with ``{name}``
    detail_url_name: str

    def create_view(self) -> Callable:
        @login_required
        def create(request):
            initial: dict[str, Any] = {}
            if source := request.GET.get("clone"):
                initial = self.clone_initial(request, source)
            elif algorithm := request.GET.get("algorithm"):
                initial = {"algorithm": algorithm}
            form = self.form(request.POST or None, initial=initial, user=request.user)
            if request.method == "POST" and form.is_valid():
                created = form.submit(self.create, user=request.user)
                if created is not None:
                    messages.success(request, self.created.format(name=created.name))
                    return redirect(self.detail_url_name, name=created.name)
            context = {"form": form, "title": self.title, "clone": source}
            return render(request, self.template, context)

        return create

    def fields_view(self) -> Callable:
        @login_required
        def fields(request):
            algorithm = request.GET.get("algorithm", "")
            form = self.form(initial={"algorithm": algorithm}, user=request.user)
            return render(request, self.fields_template, {"form": form})

        return fields
