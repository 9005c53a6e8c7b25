"""SLA due times: a policy's durations counted in its business-hours calendar."""

from __future__ import annotations

from datetime import datetime

from router.hours import add_business_time
from router.model import RuleSet


def sla_due_times(
    ruleset: RuleSet, policy_name: str, start: datetime
) -> tuple[datetime | None, datetime | None]:
    """(first_response_due, resolution_due) for a task created at ``start``; None where unset.

    Raises KeyError for a policy the rules do not define.
    """
    policy = ruleset.sla[policy_name]
    first = policy.first_response
    resolution = policy.resolution
    return (
        add_business_time(start, first, policy.calendar) if first is not None else None,
        add_business_time(start, resolution, policy.calendar) if resolution is not None else None,
    )
