"""Seeing the gaps: the coordinators' overview, the phase × district coverage picture, CSV exports."""

# The feature's state changes, called by pages, the API and jobs alike.
from matching.reports.figures import (  # noqa: F401
    SPARE_EXPERTS_WANTED,
    STALE_NEED_AFTER,
    Coverage,
    CoverageCell,
    OverdueProposal,
    StaleNeed,
    UnansweredMatch,
    available_volunteers,
    coverage,
    dashboard,
    highlight_after,
    match_rows,
    need_rows,
    stale_needs,
    unanswered_after,
    unanswered_matches,
)
