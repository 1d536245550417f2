"""The matching engine: pure functions on plain records, no Flask and no database (DESIGN §5).

``score`` one pair with its explanation, ``rank`` the candidates for one need,
``rank_needs`` the best needs for every volunteer at once,
``propose`` the optimal assignment of volunteers to all open needs, built on
``assign``, which solves it for plain (volunteer_id, need_id, score) edges; beyond a few
hundred thousand candidate pairs over pruned ones, proven optimal by pricing (``pricing``).
"""

from matching.engine.assignment import assign
from matching.engine.pool import Pool
from matching.engine.pricing import Pricing
from matching.engine.proposal import Plan, Proposal, plan, propose, rank, rank_each, rank_needs
from matching.engine.records import PART_NAMES, Need, Volunteer, Weights
from matching.engine.scoring import (
    EXCLUSIONS,
    MIN_SCORE,
    Part,
    Score,
    exclusion,
    explain,
    score,
)

__all__ = [
    "EXCLUSIONS",
    "MIN_SCORE",
    "PART_NAMES",
    "Need",
    "Part",
    "Plan",
    "Pool",
    "Pricing",
    "Proposal",
    "Score",
    "Volunteer",
    "Weights",
    "assign",
    "exclusion",
    "explain",
    "plan",
    "propose",
    "rank",
    "rank_each",
    "rank_needs",
    "score",
]
