"""The hosted product's quickstart (seed-docs 000) and the three-stage hiring pipeline of its
stages guide (seed-docs 003) as request bodies, verbatim but for the stages' `type` labels,
which those docs leave out. `viva demo` runs them; tests and benchmarks build on them.
"""

from __future__ import annotations

from typing import Any

PROFILE: dict[str, Any] = {
    "name": "Backend Hiring Agent",
    "persona": "Alex, a staff engineer at our company.",
    "useCase": "hiring",
    "evaluationDimensions": [
        {"name": "System Design", "description": "Scalable architecture", "weight": 50},
        {"name": "Coding", "description": "Correct and clean", "weight": 30},
        {"name": "Communication", "description": "Explains trade-offs", "weight": 20},
    ],
    "interaction": {"tone": "professional", "difficulty": "hard", "probingDepth": "high"},
}
TEMPLATE: dict[str, Any] = {
    "template_name": "Senior Backend Engineer",
    "use_case": "hiring",
    "description": "Backend role focused on distributed systems.",
    "objective": "Decide if the candidate can own backend system design.",
    "success_outcome": "hire_no_hire",
    "skills": ["Go", "PostgreSQL", "Distributed Systems"],
    "level": "Senior / 5+ years",
    "default_duration_minutes": 45,
    "default_difficulty": "advanced",
}
# Step 3: the quickstart's stage (ids are filled in by the caller).
STAGE: dict[str, Any] = {
    "type": "technical",
    "stage_name": "Technical Screen",
    "stage_type": "ai_interview",
    "stage_order": 0,
    "duration_minutes": 45,
    "pass_threshold": 75,
    "automation_rule": "require_reviewer_approval",
}
# Step 5: scheduling (candidate and template ids are filled in by the caller).
SESSION: dict[str, Any] = {"stage": "screen", "idempotency_key": "greenhouse-8821-screen"}
PIPELINE: list[dict[str, Any]] = [
    {
        "type": "screen",
        "stage_name": "Phone Screen",
        "stage_type": "ai_interview",
        "stage_order": 0,
        "pass_threshold": 60,
        "automation_rule": "auto_advance",
    },
    {
        "type": "technical",
        "stage_name": "Technical",
        "stage_type": "ai_interview",
        "stage_order": 1,
        "pass_threshold": 75,
        "automation_rule": "require_reviewer_approval",
    },
    {
        "type": "final",
        "stage_name": "Final",
        "stage_type": "final_review",
        "stage_order": 2,
        "pass_threshold": 80,
    },
]
PARTICIPANT: dict[str, Any] = {
    "name": "Jane Smith",
    "email": "jane@example.com",
    "external_id": "greenhouse-8821",
    "profile": {"title": "Software Engineer", "experienceLevel": "senior"},
}
