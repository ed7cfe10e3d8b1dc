"""CloudWatch Logs, as SageMaker clients read the logs of jobs and endpoints (``Logs_20140328.*``).

Every log group SageMaker writes is one row of ``LOG_GROUPS``: the group's name (or, for one
group per resource, ``/aws/sagemaker/Endpoints/<endpoint>``, the part before the resource), how
to find the caller's resources, and each resource's streams, named as SageMaker names them:

- ``/aws/sagemaker/TrainingJobs``, ``/aws/sagemaker/ProcessingJobs``: a stream per job,
  ``<job>/algo-1-<epoch of its start>``, whose events are the job's log;
- ``/aws/sagemaker/TransformJobs``: ``<job>/<instance-id>-<epoch>``, the job's log (its plan,
  each object's outcome, its end);
- ``/aws/sagemaker/Endpoints/<endpoint>``: ``<variant>/<instance-id>`` per instance, what the
  instance logged (its start, the model's prints, errors).

The SDK follows a running job with DescribeLogStreams (``<job>/`` prefix) and GetLogEvents
(``startFromHead``, ``nextForwardToken``, ``startTime`` plus a skip count for events of the same
millisecond), so a stream's events keep their order and their times once written. Tokens are
positions in the stream: ``f/<n>`` reads forward from event ``n``, ``b/<n>`` backward from
before it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, partial

from django.conf import settings
from django.db.models import QuerySet

from console.core.models import Job
from console.core.names import account_id_for
from console.core.selectors import job_log_events
from console.endpoints.selectors import InstanceLog, endpoint_instance_logs, endpoint_list
from console.processing.selectors import processing_job_list
from console.sagemaker.errors import AwsError
from console.sagemaker.operations import LOGS
from console.training.selectors import training_job_list
from console.transform.selectors import transform_job_list

# GetLogEvents and FilterLogEvents answer at most this many events a page (CloudWatch's limit).
MAX_EVENTS = 10_000
MAX_STREAMS = 50


class Stream:
    """One stream; its events, ``(epoch ms, message)`` in order, are read when first asked for."""

    def __init__(self, name: str, created: int, read: Callable[[], list[tuple[int, str]]]) -> None:
        self.name = name
        self.created = created
        self._read = read

    @cached_property
    def events(self) -> list[tuple[int, str]]:
        return self._read()


# (user=, resource=, prefix=) -> the resource's streams whose names start with prefix, or None
# when the caller has no such resource.
Streams = Callable[..., list[Stream] | None]


@dataclass(frozen=True)
class LogGroup:
    name: str  # the group's name; for one group per resource, the part before "/<resource>"
    streams: Streams
    resources: Callable[..., Iterable[str]] | None = None  # (user=) -> names, per-resource only

    def names(self, user) -> list[str]:
        if self.resources is None:
            return [self.name]
        return [f"{self.name}/{resource}" for resource in self.resources(user=user)]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _job_streams(jobs: Callable[..., QuerySet[Job]], instance: Callable[[Job], str]) -> Streams:
    """A job kind's streams: one per job, ``<job>/<instance>-<epoch of its start>``, from its
    start on (or its end, for a job that ended before it started), so that a name a follower
    has seen stays the stream's."""

    def streams(*, user, resource: str, prefix: str) -> list[Stream]:
        matching = jobs(user=user).filter(name__startswith=prefix.split("/", 1)[0])
        matching = matching.exclude(started_at=None, status__in=matching.model.ACTIVE_STATUSES)
        found = (_job_stream(job, instance(job)) for job in matching.order_by("name"))
        return [stream for stream in found if stream.name.startswith(prefix)]

    return streams


def _job_stream(job: Job, instance: str) -> Stream:
    started = job.started_at or job.created_at
    return Stream(
        f"{job.name}/{instance}-{int(started.timestamp())}", _ms(started), partial(_events, job)
    )


def _events(job: Job) -> list[tuple[int, str]]:
    return [(_ms(at), line) for at, line in job_log_events(job)]


def _transform_instance(job: Job) -> str:
    """A transform job's stream names an instance as SageMaker's do (``i-`` and 17 hex digits);
    the job's cluster is its own, so the id is the job's."""
    return "i-" + hashlib.sha1(job.arn.encode()).hexdigest()[:17]


def _endpoint_streams(*, user, resource: str, prefix: str) -> list[Stream] | None:
    endpoint = endpoint_list(user=user).filter(name=resource).first()
    if endpoint is None:
        return None
    found = (
        Stream(f"{log.variant.name}/{_instance_id(log)}", log.first_ms, log.lines)
        for log in endpoint_instance_logs(endpoint)
    )
    return sorted((s for s in found if s.name.startswith(prefix)), key=lambda s: s.name)


def _instance_id(log: InstanceLog) -> str:
    """``i-`` and what names the instance within its variant (``:`` and ``*`` are not allowed in
    stream names)."""
    short = log.instance.removeprefix(f"{log.variant.deployment_id}.")
    return "i-" + re.sub(r"[:*]", "-", short)


def _endpoint_names(*, user) -> Iterable[str]:
    return endpoint_list(user=user).values_list("name", flat=True)


LOG_GROUPS = (
    LogGroup("/aws/sagemaker/TrainingJobs", _job_streams(training_job_list, lambda _: "algo-1")),
    LogGroup(
        "/aws/sagemaker/ProcessingJobs", _job_streams(processing_job_list, lambda _: "algo-1")
    ),
    LogGroup("/aws/sagemaker/TransformJobs", _job_streams(transform_job_list, _transform_instance)),
    LogGroup("/aws/sagemaker/Endpoints", _endpoint_streams, resources=_endpoint_names),
)


def _group(params: dict) -> tuple[LogGroup, str]:
    """The group a request names (by name or ARN), and its resource for a per-resource group."""
    name = params.get("logGroupName") or params.get("logGroupIdentifier", "")
    if name.startswith("arn:"):
        name = name.partition(":log-group:")[2].removesuffix(":*")
    for group in LOG_GROUPS:
        if group.resources is None and name == group.name:
            return group, ""
        resource = name.removeprefix(f"{group.name}/")
        if group.resources is not None and resource != name and resource:
            return group, resource
    raise _no_group()


def _no_group() -> AwsError:
    return AwsError("ResourceNotFoundException", "The specified log group does not exist.")


def _streams(user, group: LogGroup, resource: str, prefix: str = "") -> list[Stream]:
    """The group's streams whose names start with ``prefix``, in name order."""
    streams = group.streams(user=user, resource=resource, prefix=prefix)
    if streams is None:
        raise _no_group()
    return streams


def _stream(user, group: LogGroup, resource: str, name: str) -> Stream:
    for stream in _streams(user, group, resource, name):
        if stream.name == name:
            return stream
    raise AwsError("ResourceNotFoundException", "The specified log stream does not exist.")


def _group_arn(user, name: str) -> str:
    return f"arn:aws:logs:{settings.SAGEMAKER_REGION}:{account_id_for(user.pk)}:log-group:{name}"


def _page_token(token: str | None, kind: str) -> int | None:
    """The position a ``nextToken`` names: ``<kind>/<n>`` from this adapter, else an error."""
    if token is None:
        return None
    prefix, _, number = token.partition("/")
    if prefix not in kind or not number.isdigit():
        raise AwsError("InvalidParameterException", "The specified nextToken is invalid.")
    return int(number)


@LOGS.operation("DescribeLogGroups")
def describe_log_groups(*, user, params: dict) -> dict:
    prefix = params.get("logGroupNamePrefix", "")
    names = (name for group in LOG_GROUPS for name in group.names(user))
    groups = sorted(name for name in names if name.startswith(prefix))
    return {
        "logGroups": [
            {
                "logGroupName": name,
                "creationTime": _ms(user.date_joined),
                "metricFilterCount": 0,
                "arn": f"{_group_arn(user, name)}:*",
                "logGroupArn": _group_arn(user, name),
                "storedBytes": 0,
                "logGroupClass": "STANDARD",
            }
            for name in groups[: params.get("limit", MAX_STREAMS)]
        ]
    }


@LOGS.operation("DescribeLogStreams")
def describe_log_streams(*, user, params: dict) -> dict:
    group, resource = _group(params)
    prefix = params.get("logStreamNamePrefix", "")
    order = params.get("orderBy", "LogStreamName")
    if prefix and order == "LastEventTime":
        raise AwsError(
            "InvalidParameterException",
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
        )
    streams = _streams(user, group, resource, prefix)
    if order == "LastEventTime":
        streams.sort(key=lambda s: s.events[-1][0] if s.events else 0)
    else:
        streams.sort(key=lambda s: s.name)
    if params.get("descending"):
        streams.reverse()
    start = _page_token(params.get("nextToken"), "s") or 0
    limit = params.get("limit", MAX_STREAMS)
    page = streams[start : start + limit]
    group_name = params.get("logGroupName") or params.get("logGroupIdentifier", "")
    response = {"logStreams": [_stream_summary(user, group_name, stream) for stream in page]}
    if start + limit < len(streams):
        response["nextToken"] = f"s/{start + limit}"
    return response


def _stream_summary(user, group_name: str, stream: Stream) -> dict:
    summary = {
        "logStreamName": stream.name,
        "creationTime": stream.created,
        "arn": f"{_group_arn(user, group_name)}:log-stream:{stream.name}",
        "storedBytes": 0,
    }
    if stream.events:
        first, last = stream.events[0][0], stream.events[-1][0]
        summary.update(
            firstEventTimestamp=first,
            lastEventTimestamp=last,
            lastIngestionTime=last,
            uploadSequenceToken="1",
        )
    return summary


@LOGS.operation("GetLogEvents")
def get_log_events(*, user, params: dict) -> dict:
    group, resource = _group(params)
    stream = _stream(user, group, resource, params["logStreamName"])
    start, end = params.get("startTime"), params.get("endTime")
    positions = [
        n
        for n, (timestamp, _) in enumerate(stream.events)
        if (start is None or timestamp >= start) and (end is None or timestamp < end)
    ]
    limit = min(params.get("limit", MAX_EVENTS), MAX_EVENTS)
    token = params.get("nextToken")
    at = _page_token(token, "fb")
    if token is not None and token.startswith("b"):
        page = [n for n in positions if n < at][-limit:]
    elif at is not None:
        page = [n for n in positions if n >= at][:limit]
    elif params.get("startFromHead"):
        page = positions[:limit]
    else:
        page = positions[-limit:]
    first = page[0] if page else (at if at is not None else len(stream.events))
    after = page[-1] + 1 if page else first
    return {
        "events": [_event(stream, n) for n in page],
        "nextForwardToken": f"f/{after:020d}",
        "nextBackwardToken": f"b/{first:020d}",
    }


def _event(stream: Stream, n: int) -> dict:
    timestamp, message = stream.events[n]
    return {"timestamp": timestamp, "message": message, "ingestionTime": timestamp}


@LOGS.operation("FilterLogEvents")
def filter_log_events(*, user, params: dict) -> dict:
    """Events of the group's streams (all, those named, or those with a prefix) in time order;
    ``filterPattern`` as CloudWatch reads plain terms: every term must appear (a quoted phrase
    as a whole; ``?term`` alternatives and JSON patterns are not read)."""
    group, resource = _group(params)
    names = params.get("logStreamNames")
    if names and params.get("logStreamNamePrefix"):
        raise AwsError(
            "InvalidParameterException",
            "logStreamNames and logStreamNamePrefix cannot both be given.",
        )
    streams = [
        s
        for s in _streams(user, group, resource, params.get("logStreamNamePrefix", ""))
        if not names or s.name in names
    ]
    terms = _pattern_terms(params.get("filterPattern", ""))
    start, end = params.get("startTime"), params.get("endTime")
    events = sorted(
        (
            (timestamp, stream.name, n, message)
            for stream in streams
            for n, (timestamp, message) in enumerate(stream.events)
            if (start is None or timestamp >= start)
            and (end is None or timestamp < end)
            and all(term in message for term in terms)
        ),
        key=lambda event: (event[0], event[1], event[2]),
    )
    skip = _page_token(params.get("nextToken"), "e") or 0
    limit = min(params.get("limit", MAX_EVENTS), MAX_EVENTS)
    page = events[skip : skip + limit]
    response = {
        "events": [
            {
                "logStreamName": name,
                "timestamp": timestamp,
                "message": message,
                "ingestionTime": timestamp,
                "eventId": f"{timestamp}-{name}-{n}",
            }
            for timestamp, name, n, message in page
        ],
        "searchedLogStreams": [
            {"logStreamName": s.name, "searchedCompletely": True} for s in streams
        ],
    }
    if skip + limit < len(events):
        response["nextToken"] = f"e/{skip + limit}"
    return response


def _pattern_terms(pattern: str) -> list[str]:
    pattern = pattern.strip()
    if not pattern:
        return []
    if pattern.startswith(("{", "[", "?")) or "%" in pattern:
        raise AwsError(
            "InvalidParameterException",
            "filterPattern: only plain terms and quoted phrases are supported.",
        )
    terms, rest = [], pattern
    while rest:
        rest = rest.lstrip()
        if rest.startswith('"'):
            phrase, _, rest = rest[1:].partition('"')
            terms.append(phrase)
        else:
            term, _, rest = rest.partition(" ")
            terms.append(term)
    return [term for term in terms if term]
