"""A scripted candidate room that speaks the protocol of docs/candidate-room.md.

It lets the simulator's recovery paths be tested deterministically: interviewer failures
(`retry` events), `409 interviewer_busy`, streams that end without `done`. The real room is
exercised end to end in test_simulate_e2e.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "tok-123"
QUESTIONS = (
    ("question", "Tell me about a project where PostgreSQL was central.", "Technical knowledge"),
    ("follow_up", "Could you give me a concrete example?", "Technical knowledge"),
    ("coding_task", "Write a function that groups a list of words into anagram groups.", "Coding"),
    ("question", "Tell me about a disagreement with a colleague.", "Teamwork"),
)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _sse(events: list[tuple[str, dict[str, Any]]], *, comment: bool = True) -> Response:
    body = ": keep-alive\n\n" if comment else ""
    body += "".join(f"event: {name}\r\ndata: {json.dumps(data)}\r\n\r\n" for name, data in events)
    return Response(body, media_type="text/event-stream")


@dataclass
class FakeRoom:
    status: str = "scheduled"
    questions: tuple[tuple[str, str, str], ...] = QUESTIONS
    fail_moves: int = 0  # the next N interviewer moves fail with a `retry` event
    busy: int = 0  # the next N turn requests answer 409 interviewer_busy
    drop_done: int = 0  # the next N turn streams end without their `done` event
    limited: int = 0  # the next N requests of any kind answer 429 (Retry-After: 0)
    turns: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    client_turn_ids: set[str] = field(default_factory=set)
    end_reason: str | None = None
    asked: int = 0
    wrapped: bool = False

    # --- the protocol ------------------------------------------------------------------

    def awaiting(self) -> str | None:
        if self.status != "in_progress":
            return None
        if not self.turns or self.turns[-1]["speaker"] == "candidate":
            return "interviewer"
        return "candidate"

    def state(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "stage_name": "Technical Screen",
            "organization": "Acme",
            "duration_minutes": 30,
            "consented": self.status != "scheduled",
            "end_reason": self.end_reason,
            "awaiting": self.awaiting(),
            "coding_task": None,
            "turns": list(self.turns),
        }

    def _add(self, speaker: str, kind: str, text: str, dimension: str | None = None) -> dict[str, Any]:
        turn = {
            "seq": len(self.turns) + 1,
            "speaker": speaker,
            "kind": kind,
            "text": text,
            "dimension": dimension,
            "at": "2026-11-23T10:00:00.000Z",
        }
        self.turns.append(turn)
        return turn

    def _move(self) -> list[tuple[str, dict[str, Any]]]:
        if self.fail_moves:
            self.fail_moves -= 1
            return [("retry", {"message": "The interviewer could not answer. Try again."})]
        if self.wrapped:
            self.status, self.end_reason = "completed", "completed"
            return [("ended", {"status": "completed", "end_reason": "completed"})]
        out: list[tuple[str, dict[str, Any]]] = []
        if not self.turns:
            out.append(("turn", self._add("interviewer", "intro", "Hello, I am Alex.")))
        if self.asked < len(self.questions):
            kind, text, dimension = self.questions[self.asked]
            self.asked += 1
            out.append(("delta", {"text": text[:10]}))
            out.append(("turn", self._add("interviewer", kind, text, dimension)))
        else:
            self.wrapped = True
            out.append(("turn", self._add("interviewer", "wrap_up", "Anything to add?")))
        return out

    async def handle(self, request: Request) -> Response:
        if request.path_params["token"] != TOKEN:
            return _error(404, "not_found", "Not found")
        action = request.path_params.get("action", "")
        body = await request.json() if request.method == "POST" else {}
        if self.limited:
            self.limited -= 1
            response = _error(429, "rate_limited", "Slow down")
            response.headers["Retry-After"] = "0"
            return response
        self.requests.append((action, body))
        if action == "state":
            return JSONResponse(self.state())
        if action == "start":
            if not body.get("consent"):
                return _error(400, "consent_required", "Consent is required")
            if self.status in ("completed", "failed", "cancelled"):
                return _error(409, "interview_closed", "The interview is over")
            self.status = "in_progress"
            return JSONResponse(self.state())
        if action == "signals":
            return JSONResponse({"authenticity_signals": {}})
        if action == "end":
            if self.status == "in_progress":
                self.status, self.end_reason = "completed", "candidate_ended"
            return JSONResponse(self.state())
        if action == "turn":
            return self._turn(body)
        return _error(404, "not_found", "Not found")

    def _turn(self, body: dict[str, Any]) -> Response:
        if self.status != "in_progress":
            return _error(409, "interview_not_active", "The interview is not active")
        if self.busy:
            self.busy -= 1
            response = _error(409, "interviewer_busy", "The interviewer is still talking")
            response.headers["Retry-After"] = "0"
            return response
        events: list[tuple[str, dict[str, Any]]] = []
        text = body.get("text")
        if text is not None:
            if self.awaiting() != "candidate":
                return _error(409, "not_your_turn", "Wait for the interviewer")
            ctid = body.get("client_turn_id")
            if ctid is None or ctid not in self.client_turn_ids:
                self.client_turn_ids.add(ctid)
                turn = self._add("candidate", "answer", text)
                events.append(("candidate", {"seq": turn["seq"], "text": text, "at": turn["at"]}))
        if self.awaiting() == "interviewer":
            events += self._move()
        if self.drop_done:
            self.drop_done -= 1
        else:
            events.append(("done", {"awaiting": self.awaiting()}))
        return _sse(events)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/join/{token}/{action}", self.handle, methods=["GET", "POST"]),
            ]
        )

    @property
    def join_url(self) -> str:
        return f"http://room.test/join/{TOKEN}"

    def spoken(self, speaker: str) -> list[dict[str, Any]]:
        return [t for t in self.turns if t["speaker"] == speaker]
