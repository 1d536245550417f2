"""Accessibility: the statement and reports of barriers."""

# The feature's state changes, called by pages, the API and jobs alike.
from matching.accessibility.barriers import (  # noqa: F401
    mark_handled,
    open_reports,
    report_barrier,
)
