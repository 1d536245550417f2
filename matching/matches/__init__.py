"""A match seen by the people in it: offer help, accept or decline, complete, give feedback."""

# The feature's state changes, called by pages, the API and jobs alike.
from matching.matches.lifecycle import (  # noqa: F401
    STATUS_LABELS,
    NewProposal,
    awaits_volunteers_answer,
    change_status,
    create_match,
    end_with_need,
    finish_running_advice,
    follow_need_edit,
    give_feedback,
    knows_of,
    propose_many,
)
