"""OAuth for MCP (remote clients that only speak OAuth): registered clients, authorization
codes and tokens. Every secret is stored as its SHA-256, like API keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from viva.kit.types import JSONType, UTCDateTime
from viva.models.base import Base, IdMixin, TimestampMixin, WorkspaceMixin


class OAuthClient(IdMixin, TimestampMixin, Base):
    """A client registered by dynamic registration (RFC 7591). Not a workspace's: it registers
    before anyone signs in; a workspace only sees the clients its members granted access."""

    __tablename__ = "oauth_clients"

    name: Mapped[str] = mapped_column(String(200), default="")
    # Its registration metadata as the client sent it (redirect URIs, grant types, ...).
    info: Mapped[dict[str, Any]] = mapped_column(JSONType)
    secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class OAuthAuthorizationCode(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    """One consent's code: single-use, minutes long; its id names the tokens it yields."""

    __tablename__ = "oauth_authorization_codes"

    client_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSONType)
    code_challenge: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(Text)
    redirect_uri_explicit: Mapped[bool] = mapped_column(Boolean)
    resource: Mapped[str | None] = mapped_column(Text, nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OAuthToken(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    """An access token and its refresh token. Refreshing revokes this row and adds the next
    one in the same family (the grant: the authorization code's id), so presenting a rotated
    refresh token again reveals a copy and revokes the family."""

    __tablename__ = "oauth_tokens"

    client_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    scopes: Mapped[list[str]] = mapped_column(JSONType)
    resource: Mapped[str | None] = mapped_column(Text, nullable=True)
    access_hash: Mapped[str] = mapped_column(String(64), unique=True)
    access_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refresh_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the consent, kept through rotations
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
