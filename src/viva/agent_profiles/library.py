"""The built-in public library: interviewer profiles every workspace can fork.

They live in a workspace of their own (`viva-library`) that has no users or keys, marked
public like any shared profile, and are added on start when missing."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from viva.agent_profiles import service
from viva.agent_profiles.schemas import AgentProfileCreate
from viva.errors import NotFound
from viva.kit.pagination import PageRequest
from viva.workspaces import service as workspaces

LIBRARY_SLUG = "viva-library"


def _dims(*rows: tuple[str, str, float]) -> list[dict[str, Any]]:
    return [{"name": n, "description": d, "weight": w} for n, d, w in rows]


PROFILES: list[dict[str, Any]] = [
    {
        "name": "Backend Engineer Interviewer",
        "persona": "Sam, a principal engineer who has run production systems for a decade.",
        "useCase": "hiring",
        "evaluationDimensions": _dims(
            ("System Design", "Designs services and data flows that scale and fail gracefully", 35),
            ("Coding", "Writes correct, readable code and tests it", 35),
            ("Operations", "Debugs production issues and reasons about observability", 15),
            ("Communication", "Explains trade-offs clearly and checks understanding", 15),
        ),
        "interaction": {
            "tone": "professional",
            "style": "structured",
            "difficulty": "adaptive",
            "probingDepth": "high",
        },
    },
    {
        "name": "Frontend Engineer Interviewer",
        "persona": "Robin, a staff front-end engineer who cares about users first.",
        "useCase": "hiring",
        "evaluationDimensions": _dims(
            ("UI Engineering", "Builds components and state that stay simple as the app grows", 35),
            ("JavaScript and TypeScript", "Knows the language, its async model and its types", 30),
            ("Accessibility and UX", "Builds for keyboard, screen readers and slow networks", 15),
            ("Communication", "Explains decisions to designers and engineers alike", 20),
        ),
        "interaction": {
            "tone": "friendly",
            "style": "conversational",
            "difficulty": "medium",
            "probingDepth": "medium",
        },
    },
    {
        "name": "Sales Discovery Roleplay",
        "persona": "Jordan, a busy operations director evaluating new software.",
        "useCase": "training",
        "evaluationDimensions": _dims(
            ("Discovery", "Asks open questions that uncover the real problem and its cost", 40),
            ("Objection Handling", "Acknowledges concerns and answers them with evidence", 30),
            ("Next Steps", "Secures a concrete, mutually agreed next step", 30),
        ),
        "interaction": {
            "tone": "challenging",
            "style": "conversational",
            "difficulty": "medium",
            "probingDepth": "medium",
        },
        "context": {"scenarioContext": "A first call with a prospect who agreed to 20 minutes."},
    },
    {
        "name": "Admissions Interviewer",
        "persona": "Dr. Morgan, a faculty member on the admissions committee.",
        "useCase": "admissions",
        "evaluationDimensions": _dims(
            ("Motivation", "Has clear, well-considered reasons for applying", 30),
            ("Academic Readiness", "Shows the knowledge and study habits the programme needs", 40),
            ("Communication", "Expresses ideas clearly and listens", 30),
        ),
        "interaction": {
            "tone": "friendly",
            "style": "structured",
            "difficulty": "easy",
            "probingDepth": "medium",
        },
    },
    {
        "name": "Customer Support Interviewer",
        "persona": "Casey, a support team lead.",
        "useCase": "hiring",
        "evaluationDimensions": _dims(
            ("Empathy", "Recognises how the customer feels and responds to it", 30),
            ("Problem Solving", "Finds the cause, not just a workaround", 40),
            ("Clarity", "Gives instructions a stressed customer can follow", 30),
        ),
        "interaction": {
            "tone": "friendly",
            "style": "adaptive",
            "difficulty": "medium",
            "probingDepth": "low",
        },
    },
]


async def ensure_library(db: AsyncSession) -> int:
    """Add any built-in library profile that is missing (by name). Returns how many."""
    try:
        library = await workspaces.get_workspace(db, LIBRARY_SLUG)
    except NotFound:  # first start
        library = await workspaces.create_workspace(db, LIBRARY_SLUG, "Viva public library")
    page = await service.list_profiles(db, library.id, PageRequest(page_size=100))
    present = {p.name for p in page.items}
    added = 0
    for body in PROFILES:
        if body["name"] not in present:
            await service.create(
                db, library.id, AgentProfileCreate.model_validate({**body, "isPublic": True})
            )
            added += 1
    return added
