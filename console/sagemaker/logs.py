"""CloudWatch Logs, as SageMaker clients read their jobs' logs (``Logs_20140328.*``).

A job kind that keeps a log is a log group named as SageMaker names it
(``/aws/sagemaker/TrainingJobs``); each job is one stream, ``<job>/algo-1-<epoch of its start>``,
whose events are the job's log lines, each stamped with when it was recorded. The SDK follows a
running job with DescribeLogStreams and GetLogEvents (``startFromHead``, ``nextForwardToken``,
``startTime`` plus a skip count for events of the same millisecond), so a stream's events keep
their order and their times once written. Tokens are positions in the stream: ``f/<n>`` reads
forward from event ``n``, ``b/<n>`` backward from before it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from django.conf import settings
from django.db.models import QuerySet

from console.core.models import Job
from console.core.names import account_id_for
from console.core.selectors import job_log_events
from console.processing.selectors import processing_job_list
from console.sagemaker.errors import AwsError
from console.sagemaker.operations import LOGS
from console.training.selectors import training_job_list

# GetLogEvents and FilterLogEvents answer at most this many events a page (CloudWatch's limit).
MAX_EVENTS = 10_000
MAX_STREAMS = 50


@dataclass(frozen=True)
class LogGroup:
    name: str
    jobs: Callable[..., QuerySet[Job]]  # selector: (user=) -> the user's jobs of this kind


LOG_GROUPS = {
    group.name: group
    for group in (
        LogGroup("/aws/sagemaker/TrainingJobs", training_job_list),
        LogGroup("/aws/sagemaker/ProcessingJobs", processing_job_list),
    )
}


class Stream:
    """One job's stream; its events are read when first asked for."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.name = stream_name(job)

    @cached_property
    def events(self) -> list[tuple[int, str]]:
        """(timestamp in epoch ms, message), in order."""
        return [(_ms(at), line) for at, line in job_log_events(self.job)]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def stream_name(job: Job) -> str:
    return f"{job.name}/algo-1-{int((job.started_at or job.created_at).timestamp())}"


def _group(name: str) -> LogGroup:
    group = LOG_GROUPS.get(name)
    if group is None:
        raise AwsError("ResourceNotFoundException", "The specified log group does not exist.")
    return group


def _streams(user, group: LogGroup, prefix: str = "") -> list[Stream]:
    """The group's streams whose names start with ``prefix``."""
    jobs = group.jobs(user=user).filter(name__startswith=prefix.split("/", 1)[0])
    streams = (Stream(job) for job in jobs.order_by("name"))
    return [stream for stream in streams if stream.name.startswith(prefix)]


def _stream(user, group: LogGroup, name: str) -> Stream:
    for stream in _streams(user, group, name):
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
    groups = [name for name in sorted(LOG_GROUPS) if name.startswith(prefix)]
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
    group = _group(params.get("logGroupName") or params.get("logGroupIdentifier", ""))
    prefix = params.get("logStreamNamePrefix", "")
    order = params.get("orderBy", "LogStreamName")
    if prefix and order == "LastEventTime":
        raise AwsError(
            "InvalidParameterException",
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
        )
    streams = _streams(user, group, prefix)
    if order == "LastEventTime":
        streams.sort(key=lambda s: s.events[-1][0] if s.events else 0)
    else:
        streams.sort(key=lambda s: s.name)
    if params.get("descending"):
        streams.reverse()
    start = _page_token(params.get("nextToken"), "s") or 0
    limit = params.get("limit", MAX_STREAMS)
    page = streams[start : start + limit]
    response = {"logStreams": [_stream_summary(user, group, stream) for stream in page]}
    if start + limit < len(streams):
        response["nextToken"] = f"s/{start + limit}"
    return response


def _stream_summary(user, group: LogGroup, stream: Stream) -> dict:
    summary = {
        "logStreamName": stream.name,
        "creationTime": _ms(stream.job.started_at or stream.job.created_at),
        "arn": f"{_group_arn(user, group.name)}:log-stream:{stream.name}",
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
    group = _group(params.get("logGroupName") or params.get("logGroupIdentifier", ""))
    stream = _stream(user, group, params["logStreamName"])
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
    group = _group(params.get("logGroupName") or params.get("logGroupIdentifier", ""))
    names = params.get("logStreamNames")
    if names and params.get("logStreamNamePrefix"):
        raise AwsError(
            "InvalidParameterException",
            "logStreamNames and logStreamNamePrefix cannot both be given.",
        )
    streams = [
        s
        for s in _streams(user, group, params.get("logStreamNamePrefix", ""))
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
