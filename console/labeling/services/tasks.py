"""The work team's side of a labeling job: the next item for a worker, an answer, a skip and an
undo. Once an item has NumberOfHumanWorkersPerDataObject answers it is consolidated by majority
vote: the confidence is the winning label's share of the votes, and a tie is flagged."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from console.core.errors import InvalidState, NotFound
from console.labeling.models import HumanAnswer, LabelingItem, LabelingJob, LabelingTask
from console.labeling.selectors import workteam_has_member
from console.labeling.services.jobs import DEFAULT_MAX_CONCURRENT_TASKS, _recount, label_index


def labeling_task_next(*, user, job: LabelingJob) -> LabelingItem | None:
    """The item this worker should label next, held for them for TaskTimeLimitInSeconds; None
    when the job has nothing for them now. Never an item they answered or skipped; an item goes
    to at most NumberOfHumanWorkersPerDataObject workers, and at most MaxConcurrentTaskCount
    items are open (handed out and not yet consolidated) at once."""
    with transaction.atomic():
        job = _job_for_worker(user, job, lock=True)
        if job.status != "InProgress":
            return None
        now = timezone.now()
        held = LabelingTask.objects.filter(
            item__job=job,
            worker=user,
            skipped=False,
            expires_at__gt=now,
            item__state=LabelingItem.UNLABELED,
        ).exclude(item__answers__worker=user)
        task = held.select_related("item").order_by("assigned_at").first()
        if task is not None:
            return task.item
        item = _next_item(job, user, now)
        if item is None:
            return None
        limit = job.spec["HumanTaskConfig"]["TaskTimeLimitInSeconds"]
        LabelingTask.objects.update_or_create(
            item=item,
            worker=user,
            defaults={"expires_at": now + timedelta(seconds=limit), "skipped": False},
        )
        return item


def labeling_task_answer(*, user, item: LabelingItem, label: int | str) -> LabelingItem:
    """Record the worker's label (a class index or name) for ``item``; consolidate the item once
    it has all its answers."""
    with transaction.atomic():
        job = _job_for_worker(user, item.job, lock=True)
        if job.status != "InProgress":
            raise InvalidState(f"The labeling job is {job.status}: it takes no more answers.")
        index = label_index(job, label)
        item = LabelingItem.objects.select_for_update().get(pk=item.pk, job=job)
        if not item.sent_to_humans or item.state != LabelingItem.UNLABELED:
            raise InvalidState(f"Item {item.index} of the job is not waiting for an answer.")
        if item.answers.filter(worker=user).exists():
            raise InvalidState(f"You have answered item {item.index} already.")
        if not _open_to(item, user, _workers_per_item(job), timezone.now()):
            raise InvalidState(f"Item {item.index} has all the workers it needs.")
        HumanAnswer.objects.create(item=item, worker=user, label=index)
        LabelingTask.objects.filter(item=item, worker=user).delete()
        _consolidate(job, item)
        _recount(job)
        return item


def labeling_task_skip(*, user, item: LabelingItem) -> None:
    """Pass the item over: it is not offered to this worker again."""
    with transaction.atomic():
        _job_for_worker(user, item.job, lock=True)  # members of the job's team only
        LabelingTask.objects.update_or_create(
            item=item, worker=user, defaults={"expires_at": timezone.now(), "skipped": True}
        )


def labeling_task_undo(*, user, job: LabelingJob) -> LabelingItem | None:
    """Take back the worker's last answer on the job: the answer is deleted and the item, if that
    answer had completed it, is open again; it is the worker's next task. None if they have no
    answer to take back."""
    with transaction.atomic():
        job = _job_for_worker(user, job, lock=True)
        if job.status != "InProgress":
            raise InvalidState(f"The labeling job is {job.status}: its answers are final.")
        answer = (
            HumanAnswer.objects.filter(item__job=job, worker=user)
            .select_related("item")
            .order_by("-answered_at", "-pk")
            .first()
        )
        if answer is None:
            return None
        item = answer.item
        if item.state == LabelingItem.MACHINE:
            raise InvalidState(f"Item {item.index} has been labeled by the machine since.")
        answer.delete()
        if item.state == LabelingItem.HUMAN:
            item.state, item.label, item.confidence = LabelingItem.UNLABELED, None, None
            item.human_annotated, item.tie, item.labeled_at = False, False, None
            item.save()
        limit = job.spec["HumanTaskConfig"]["TaskTimeLimitInSeconds"]
        LabelingTask.objects.update_or_create(
            item=item,
            worker=user,
            defaults={"expires_at": timezone.now() + timedelta(seconds=limit), "skipped": False},
        )
        _recount(job)
        return item


def _job_for_worker(user, job: LabelingJob, *, lock: bool) -> LabelingJob:
    rows = LabelingJob.objects.select_related("workteam")
    job = (rows.select_for_update(of=("self",)) if lock else rows).get(pk=job.pk)
    if not workteam_has_member(job.workteam, user):
        raise NotFound("LabelingJob", job.name)
    return job


def _workers_per_item(job: LabelingJob) -> int:
    return job.spec["HumanTaskConfig"]["NumberOfHumanWorkersPerDataObject"]


def _others_holding(now) -> Q:
    return Q(tasks__skipped=False, tasks__expires_at__gt=now)


def _open_to(item: LabelingItem, user, needed: int, now) -> bool:
    """Whether one more worker may answer ``item``: its answers and the tasks others hold leave
    room."""
    answers = item.answers.count()
    holding = item.tasks.filter(skipped=False, expires_at__gt=now).exclude(worker=user).count()
    return answers + holding < needed


def _next_item(job: LabelingJob, user, now) -> LabelingItem | None:
    needed = _workers_per_item(job)
    queue = (
        job.items.filter(sent_to_humans=True, state=LabelingItem.UNLABELED)
        .exclude(answers__worker=user)
        .exclude(tasks__worker=user, tasks__skipped=True)
        .annotate(
            n_answers=Count("answers", distinct=True),
            n_held=Count("tasks", filter=_others_holding(now), distinct=True),
        )
        .order_by("index")
    )
    started = queue.filter(Q(n_answers__gt=0) | Q(n_held__gt=0))
    for item in started.filter(n_answers__lt=needed):
        if item.n_answers + item.n_held < needed:
            return item
    open_items = (
        job.items.filter(state=LabelingItem.UNLABELED)
        .filter(Q(answers__isnull=False) | _others_holding(now))
        .distinct()
        .count()
    )
    max_open = job.spec["HumanTaskConfig"].get(
        "MaxConcurrentTaskCount", DEFAULT_MAX_CONCURRENT_TASKS
    )
    if open_items >= max_open or _human_budget_spent(job, open_items):
        return None
    return queue.filter(n_answers=0, n_held=0).first()


def _human_budget_spent(job: LabelingJob, open_items: int) -> bool:
    """MaxHumanLabeledObjectCount: no item is opened past the number people may label."""
    budget = job.spec.get("StoppingConditions", {}).get("MaxHumanLabeledObjectCount")
    if budget is None:
        return False
    human = job.items.filter(state=LabelingItem.HUMAN).count()
    return human + open_items >= budget


def _consolidate(job: LabelingJob, item: LabelingItem) -> None:
    labels = list(item.answers.values_list("label", flat=True))
    if len(labels) < _workers_per_item(job):
        return
    votes = Counter(labels).most_common()
    top = votes[0][1]
    winners = sorted(label for label, count in votes if count == top)
    item.state = LabelingItem.HUMAN
    item.label = winners[0]  # a tie goes to the first category, and is flagged
    item.confidence = top / len(labels)
    item.tie = len(winners) > 1
    item.human_annotated = True
    item.labeled_at = timezone.now()
    item.save()
