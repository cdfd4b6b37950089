"""Permission scopes (SPEC §2) and what each dashboard role may do."""

from __future__ import annotations

ALL_SCOPES: tuple[str, ...] = (
    "candidates.read",
    "candidates.write",
    "candidates.delete",
    "interviews.read",
    "interviews.write",
    "evaluation_templates.read",
    "evaluation_templates.write",
    "evaluation_stages.read",
    "evaluation_stages.write",
    "webhooks.read",
    "webhooks.write",
    "events.read",
)

ROLES: tuple[str, ...] = ("owner", "admin", "recruiter", "reviewer")

_READ = tuple(s for s in ALL_SCOPES if s.endswith(".read"))

ROLE_SCOPES: dict[str, frozenset[str]] = {
    "owner": frozenset(ALL_SCOPES),
    "admin": frozenset(ALL_SCOPES),
    # Recruiters run hiring but don't wire integrations.
    "recruiter": frozenset(s for s in ALL_SCOPES if s != "webhooks.write"),
    # Reviewers read everything and record review decisions (issue: scoring), nothing else.
    "reviewer": frozenset(_READ),
}
