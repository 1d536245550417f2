"""Seeing the gaps: the coordinators' overview, the phase × district coverage picture, CSV exports."""

# The feature's state changes, called by pages, the API and jobs alike.
from matching.reports.figures import (  # noqa: F401
    LIST_PAGE_ROWS,
    OVERVIEW_ROWS,
    SPARE_EXPERTS_WANTED,
    STALE_NEED_AFTER,
    Coverage,
    CoverageCell,
    Listing,
    OverdueProposal,
    StaleNeed,
    UnansweredMatch,
    available_volunteers,
    count,
    coverage,
    dashboard,
    highlight_after,
    match_rows,
    need_rows,
    overdue_proposals,
    overdue_proposals_query,
    stale_needs,
    stale_needs_query,
    unanswered_after,
    unanswered_matches,
    unanswered_matches_query,
)
