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


def render(kind: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) for one kind of email."""
    subject = SUBJECTS[kind].format(**context)
    text = _env.get_template(f"{kind}.txt").render(**context)
    html = _env.get_template(f"{kind}.html").render(subject=subject, **context)
    return subject, text, html
