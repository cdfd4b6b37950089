"""Every table, importable from one place (Alembic reads `Base.metadata` from here)."""

from viva.models.agent_profile import AgentProfile
from viva.models.base import Base
from viva.models.event import Event
from viva.models.participant import Participant
from viva.models.template import EvaluationStage, EvaluationTemplate
from viva.models.workspace import ApiKey, Membership, User, UserSession, Workspace

__all__ = [
    "AgentProfile",
    "ApiKey",
    "Base",
    "EvaluationStage",
    "EvaluationTemplate",
    "Event",
    "Membership",
    "Participant",
    "User",
    "UserSession",
    "Workspace",
]
