"""Typed SQLAlchemy models, one module per concept."""

from matching.models.accessibility import BarrierReport
from matching.models.api import ApiToken
from matching.models.audit import AuditEntry
from matching.models.base import utcnow
from matching.models.conversations import (
    LIVE_MEETING_STATUSES,
    MatchMessage,
    Meeting,
    MeetingOption,
    MeetingOutcome,
    MeetingStatus,
    MessageMail,
    MessageMailSetting,
    PlaceKind,
    ThreadRole,
)
from matching.models.digests import DigestKind, DigestSetting, DigestShown, JobRun
from matching.models.initiatives import (
    ACTIVE_NEED_STATUSES,
    EDITABLE_NEED_STATUSES,
    Initiative,
    InitiativeMember,
    Need,
    NeedPhase,
    NeedStatus,
)
from matching.models.matches import (
    ACTIVE_MATCH_STATUSES,
    ADVISED_MATCH_STATUSES,
    ENGAGED_MATCH_STATUSES,
    NEVER_AGAIN_MATCH_STATUSES,
    SERVED_MATCH_STATUSES,
    WAITING_MATCH_STATUSES,
    Match,
    MatchOrigin,
    MatchStatus,
)
from matching.models.matching import MatchingRequest, ProposalFingerprint
from matching.models.outbox import OutboxMessage, OutboxStatus
from matching.models.passes import NeedPass, PassReason
from matching.models.toolkit import Material, MaterialFile, MaterialStatus
from matching.models.users import ConsentRecord, Role, User, UserRole, UserSession
from matching.models.volunteers import (
    ProfileStatus,
    VolunteerDistrict,
    VolunteerLanguage,
    VolunteerPhaseLevel,
    VolunteerProfile,
)

__all__ = [
    "ACTIVE_MATCH_STATUSES",
    "ACTIVE_NEED_STATUSES",
    "ADVISED_MATCH_STATUSES",
    "EDITABLE_NEED_STATUSES",
    "ENGAGED_MATCH_STATUSES",
    "LIVE_MEETING_STATUSES",
    "NEVER_AGAIN_MATCH_STATUSES",
    "SERVED_MATCH_STATUSES",
    "WAITING_MATCH_STATUSES",
    "ApiToken",
    "AuditEntry",
    "BarrierReport",
    "ConsentRecord",
    "DigestKind",
    "DigestSetting",
    "DigestShown",
    "Initiative",
    "InitiativeMember",
    "JobRun",
    "Match",
    "MatchMessage",
    "MatchOrigin",
    "MatchStatus",
    "MatchingRequest",
    "Material",
    "MaterialFile",
    "MaterialStatus",
    "Meeting",
    "MeetingOption",
    "MeetingOutcome",
    "MeetingStatus",
    "MessageMail",
    "MessageMailSetting",
    "Need",
    "NeedPass",
    "NeedPhase",
    "NeedStatus",
    "OutboxMessage",
    "OutboxStatus",
    "PassReason",
    "PlaceKind",
    "ProfileStatus",
    "ProposalFingerprint",
    "Role",
    "ThreadRole",
    "User",
    "UserRole",
    "UserSession",
    "VolunteerDistrict",
    "VolunteerLanguage",
    "VolunteerPhaseLevel",
    "VolunteerProfile",
    "utcnow",
]
