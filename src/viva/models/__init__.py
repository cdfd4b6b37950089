"""Every table, importable from one place (Alembic reads `Base.metadata` from here)."""

from viva.models.agent_profile import AgentProfile
from viva.models.base import Base
from viva.models.email import EmailMessage
from viva.models.event import Event
from viva.models.job import Job
from viva.models.oauth import OAuthAuthorizationCode, OAuthClient, OAuthToken
from viva.models.participant import Participant, ResumeChunk
from viva.models.recording import SessionRecording
from viva.models.session import IdempotencyKey, InterviewSession, Scorecard, TranscriptTurn
from viva.models.template import EvaluationStage, EvaluationTemplate
from viva.models.webhook import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from viva.models.workspace import ApiKey, Membership, User, UserSession, Workspace

__all__ = [
    "AgentProfile",
    "ApiKey",
    "Base",
    "EmailMessage",
    "EvaluationStage",
    "EvaluationTemplate",
    "Event",
    "IdempotencyKey",
    "InterviewSession",
    "Job",
    "Membership",
    "OAuthAuthorizationCode",
    "OAuthClient",
    "OAuthToken",
    "Participant",
    "ResumeChunk",
    "Scorecard",
    "SessionRecording",
    "TranscriptTurn",
    "User",
    "UserSession",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Workspace",
]
