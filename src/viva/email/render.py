"""Email text and HTML from Jinja templates (HTML autoescaped)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

SUBJECTS = {
    "invite": "Your interview with {organization}: {stage_name}",
    "reschedule": "New time for your interview with {organization}",
    "cancellation": "Your interview with {organization} was cancelled",
    "reminder": "Reminder: your interview with {organization} {when}",
}


SUBJECT_MAX = 300  # the length of EmailMessage.subject


def subject_line(kind: str, context: dict[str, Any]) -> str:
    """The Subject: one line (names are free text, and a line break in a header would either
    inject headers or make the message unsendable) that fits its column."""
    subject = " ".join(SUBJECTS[kind].format(**context).split())
    return subject if len(subject) <= SUBJECT_MAX else subject[: SUBJECT_MAX - 1] + "…"


def render(kind: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) for one kind of email."""
    subject = subject_line(kind, context)
    text = _env.get_template(f"{kind}.txt").render(**context)
    html = _env.get_template(f"{kind}.html").render(subject=subject, **context)
    return subject, text, html
