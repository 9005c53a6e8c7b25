"""Support-lead reports: figures computed from stored timestamps, the same for every reader."""

from dialogs.reports.build import DIMENSIONS
from dialogs.reports.metrics import COLUMNS
from dialogs.reports.period import Period, parse_period, parse_zone
from dialogs.reports.service import (
    ReportFilters,
    ReportInputError,
    build_summary,
    build_table,
    build_timeseries,
)

__all__ = [
    "COLUMNS",
    "DIMENSIONS",
    "Period",
    "ReportFilters",
    "ReportInputError",
    "build_summary",
    "build_table",
    "build_timeseries",
    "parse_period",
    "parse_zone",
]
