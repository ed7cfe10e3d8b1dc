"""CloudWatch's aggregation of a metric series: datapoints per period with its statistics."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

STATISTICS = {
    "SampleCount": len,
    "Average": lambda values: sum(values) / len(values),
    "Sum": sum,
    "Minimum": min,
    "Maximum": max,
}


def percentile(values: list[float], statistic: str) -> float:
    ordered = sorted(values)
    rank = float(statistic[1:]) / 100 * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def datapoints(
    points: list[tuple[datetime, float]],
    *,
    start: datetime,
    end: datetime,
    period: int,
    statistics: list[str],
    extended: list[str],
) -> list[dict[str, Any]]:
    """CloudWatch's aggregation: the values in each ``period`` seconds (aligned to the period
    since the epoch, as CloudWatch rounds StartTime down), one datapoint per period that has any."""
    first = math.floor(start.timestamp() / period) * period
    buckets: dict[int, list[float]] = {}
    for at, value in points:
        seconds = at.timestamp()
        if first <= seconds < end.timestamp():
            buckets.setdefault(math.floor(seconds / period) * period, []).append(value)
    answer = []
    for bucket, values in sorted(buckets.items()):
        point: dict[str, Any] = {"Timestamp": datetime.fromtimestamp(bucket, tz=UTC)}
        point.update({name: float(STATISTICS[name](values)) for name in statistics})
        if extended:
            point["ExtendedStatistics"] = {name: percentile(values, name) for name in extended}
        point["Unit"] = "None"
        answer.append(point)
    return answer
