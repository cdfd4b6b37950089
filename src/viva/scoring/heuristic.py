"""The built-in offline grader: transparent heuristics, labelled as such (engine `heuristic-v1`).

No language model is involved; every number can be traced to the features below.

**Which answers count for a dimension.** Each candidate turn is paired with the interviewer turn
before it; when that turn is a question, follow-up or coding task tagged with the dimension, the
candidate turn is an answer on that dimension. A dimension with no answer is not covered (`null`).

**Features of one answer** (each 0..1) and their weights in the answer's quality `q`:

- relevance, 0.25: distinct topic terms used / 3. The topic is the dimension's name and
  description, the template's skills and soft skills, and the question answered (light stemming).
- specificity, 0.25: half numbers (how many / 3), half a concrete example ("for example",
  "I built", "at my previous", ...).
- structure, 0.15: sequence markers ("first", "then", "finally", "as a result", ...) / 2.
- reasoning, 0.15: reasoning markers ("because", "so that", "trade-off", "instead of", ...) / 2.
- length, 0.20: words / 40, at most 1; × 0.8 beyond 300 words (rambling).
- hedges, −0.08 each, at most −0.24: "maybe", "I guess", "not sure", ... (counted by
  `viva.interview.core.assess_answer`).

`q` is clamped to 0..1. An answer that tries to instruct the interviewer or the grader (same
detector as the live engine) is a non-answer: `q = 0`, and the dimension is flagged
`instruction_attempt`. A dimension's quality is the mean `q` of its answers; when the dimension had
a coding task and code results are given, it is 0.6 × that mean + 0.4 × the share of tests passed.
The dimension score is quality × the scale's maximum, to 1 decimal. The rubric maths (overall,
passed, recommendation, the low-signal cap) is `viva.scoring.rubric`, shared with the LLM grader.

Reasoning names the features behind the score in 2–4 sentences; citations are 1–2 verbatim
sentences from the best answers; the summary names the strongest and weakest dimensions and what
to probe next; the improvement feedback (candidate-safe: no scores, no decision) is advice for the
two weakest features across the interview.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from viva.interview.core import EXAMPLE_MARKERS, assess_answer
from viva.scoring import quotes
from viva.scoring.rubric import (
    ANSWERED_KINDS,
    Citation,
    CodeResultIn,
    DimensionSpec,
    Engine,
    Judgement,
    Scorecard,
    ScoringSpec,
    TranscriptTurnIn,
    answers_by_prompt,
    build_scorecard,
    round1,
)

ENGINE = Engine(provider="builtin", model="heuristic-v1", prompt_version=None, method="heuristic")

WEIGHTS: dict[str, float] = {
    "relevance": 0.25,
    "specificity": 0.25,
    "structure": 0.15,
    "reasoning": 0.15,
    "length": 0.20,
}
HEDGE_PENALTY = 0.08
MAX_HEDGE_PENALTY = 0.24
RELEVANCE_TARGET = 3  # distinct topic terms for full relevance
NUMBERS_TARGET = 3
MARKERS_TARGET = 2
LENGTH_TARGET = 40  # words for full length credit
RAMBLING_WORDS = 300
RAMBLING_FACTOR = 0.8
CODE_SHARE = 0.4  # share of a coding dimension's quality from tests passed, when known
QUOTE_MAX_CHARS = 200

FLAG_INSTRUCTION = "instruction_attempt"

_STRUCTURE = (
    "first",
    "second",
    "third",
    "then",
    "next",
    "finally",
    "after that",
    "afterwards",
    "as a result",
    "the outcome",
    "in the end",
    "to start",
    "step",
)
_REASONING = (
    "because",
    "so that",
    "trade-off",
    "tradeoff",
    "trade off",
    "instead of",
    "rather than",
    "compared",
    "comparing",
    "the reason",
    "which meant",
    "therefore",
    "that is why",
    "in order to",
    "the cost",
    "costs",
    "risk",
)
_EXAMPLE = (*EXAMPLE_MARKERS, "i owned")  # the interviewer's markers, plus ownership
_STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as ask at back be because been before
    being between both but by can could did do does doing done during each else ever every few for from
    get give go going good got had has have having he her here him his how however i if in into is it its
    just know last least let like made make many may me might more most much must my need new next no
    nor not now of off often on once one only or other our out over own please really same say see she
    should so some such sure take tell than thank thanks that the their them then there these they thing
    things think this those through time to too under until up us use used using very want was way we
    well were what when where which while who whom why will with without would yes yet you your
    describe explain walk talk example examples situation specific concrete detail details steps approach
    result results change today recent recently proud question answer part kind sort something someone
    different important main typical usually able actually tried trying keep kept long short small down
    wrong whether makes another others yourself enough clearly clear any audience ability strong solid
    depth good great level work worked working experience candidate role
    """.split()
)
_WORD = re.compile(r"[a-z0-9][a-z0-9+#]*")
_NUMBER = re.compile(r"\d[\d,.]*")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


def _stem(word: str) -> str:
    for suffix in ("ing", "ies", "es", "ed", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word[:6]


def _terms(text: str) -> dict[str, str]:
    """Content words of `text` as {stem: word}, first spelling kept."""
    out: dict[str, str] = {}
    for w in _WORD.findall(text.lower()):
        if len(w) >= 3 and w not in _STOPWORDS:
            out.setdefault(_stem(w), w)
    return out


def _count(text: str, markers: Sequence[str]) -> int:
    lowered = f" {text.lower()} "
    return sum(len(re.findall(rf"(?<![a-z]){re.escape(m)}(?![a-z])", lowered)) for m in markers)


@dataclass(frozen=True)
class AnswerFeatures:
    """The features of one answer (see the module docstring) and its quality `q`."""

    turn: TranscriptTurnIn
    words: int
    topic_hits: tuple[str, ...]
    skill_hits: tuple[str, ...]
    relevance: float
    numbers: int
    has_example: bool
    specificity: float
    structure: float
    reasoning: float
    length: float
    hedges: int
    instruction_attempt: bool
    q: float


def answer_features(
    turn: TranscriptTurnIn, topic: Mapping[str, str], skills: Sequence[str]
) -> AnswerFeatures:
    """Score one answer against a topic vocabulary ({stem: word}) and the template's skills."""
    text = turn.text
    assessment = assess_answer(text)
    words = assessment.words
    mine = _terms(text)
    hits = tuple(topic[s] for s in topic if s in mine)
    lowered = text.lower()
    skill_hits = tuple(s for s in skills if s.strip() and s.lower() in lowered)
    relevance = min(1.0, len(set(hits) | {s.lower() for s in skill_hits}) / RELEVANCE_TARGET)
    numbers = len(_NUMBER.findall(text))
    has_example = _count(text, _EXAMPLE) > 0
    specificity = 0.5 * min(1.0, numbers / NUMBERS_TARGET) + 0.5 * (1.0 if has_example else 0.0)
    structure = min(1.0, _count(text, _STRUCTURE) / MARKERS_TARGET)
    reasoning = min(1.0, _count(text, _REASONING) / MARKERS_TARGET)
    length = min(1.0, words / LENGTH_TARGET)
    if words > RAMBLING_WORDS:
        length *= RAMBLING_FACTOR
    q = (
        WEIGHTS["relevance"] * relevance
        + WEIGHTS["specificity"] * specificity
        + WEIGHTS["structure"] * structure
        + WEIGHTS["reasoning"] * reasoning
        + WEIGHTS["length"] * length
        - min(MAX_HEDGE_PENALTY, HEDGE_PENALTY * assessment.hedges)
    )
    q = 0.0 if assessment.off_topic else min(1.0, max(0.0, q))
    return AnswerFeatures(
        turn=turn,
        words=words,
        topic_hits=hits,
        skill_hits=skill_hits,
        relevance=relevance,
        numbers=numbers,
        has_example=has_example,
        specificity=specificity,
        structure=structure,
        reasoning=reasoning,
        length=length,
        hedges=assessment.hedges,
        instruction_attempt=assessment.off_topic,
        q=q,
    )


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


# --- per dimension ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DimensionEvidence:
    dim: DimensionSpec
    answers: list[AnswerFeatures]
    had_coding_task: bool
    code: tuple[int, int] | None  # (passed, total)

    @property
    def substantive(self) -> list[AnswerFeatures]:
        return [a for a in self.answers if not a.instruction_attempt]

    def quality(self) -> float:
        mean = _mean([a.q for a in self.answers])
        if self.code is not None and self.code[1] > 0:
            return (1 - CODE_SHARE) * mean + CODE_SHARE * (self.code[0] / self.code[1])
        return mean

    def feature(self, name: str) -> float:
        answers = self.substantive
        if name == "hedge_free":
            return 1.0 - min(1.0, _mean([a.hedges for a in answers]) / 2) if answers else 0.0
        return _mean([float(getattr(a, name)) for a in answers])


def _evidence(
    spec: ScoringSpec, turns: Sequence[TranscriptTurnIn], code_results: Sequence[CodeResultIn]
) -> list[_DimensionEvidence]:
    role = spec.role
    skills = [*role.skills, *role.soft_skills]
    pairs = answers_by_prompt(turns)
    last_coding: str | None = None
    for prompt, _ in pairs:
        if prompt.kind == "coding_task" and prompt.dimension:
            last_coding = prompt.dimension
    out = []
    for dim in spec.dimensions:
        key = dim.name.casefold()
        base = _terms(f"{dim.name} {dim.description} {' '.join(skills)}")
        answers: list[AnswerFeatures] = []
        coding = False
        asked = ""
        for prompt, reply in pairs:
            name = prompt.dimension or reply.dimension
            if prompt.kind not in ANSWERED_KINDS or (name or "").casefold() != key:
                continue
            if prompt.kind != "follow_up":
                asked = prompt.text  # a follow-up is about the question before it
            coding = coding or prompt.kind == "coding_task"
            topic = {**_terms(asked), **_terms(prompt.text), **base}
            answers.append(answer_features(reply, topic, skills))
        code: tuple[int, int] | None = None
        for result in code_results:
            target = result.dimension or last_coding
            if (target or "").casefold() == key and result.tests_total > 0:
                passed, total = code or (0, 0)
                code = (passed + max(0, result.tests_passed), total + result.tests_total)
        out.append(_DimensionEvidence(dim, answers, coding, code))
    return out


def _pct(value: float) -> str:
    return "high" if value >= 0.75 else "moderate" if value >= 0.4 else "low"


_STRENGTH_TEXT = {
    "relevance": "stayed on the topic of the question",
    "specificity": "backed claims with concrete examples and numbers",
    "structure": "structured answers in clear steps",
    "reasoning": "explained the reasons behind choices and their trade-offs",
    "length": "answered at a useful length",
    "hedge_free": "answered without hedging",
}
_WEAKNESS_TEXT = {
    "relevance": "often talked around the question rather than answering it",
    "specificity": "gave few numbers or concrete examples",
    "structure": "showed little visible structure",
    "reasoning": "rarely explained why",
    "length": "answered very briefly",
    "hedge_free": "hedged a lot",
}
_FEATURES = ("relevance", "specificity", "structure", "reasoning", "length", "hedge_free")


def _reasoning(ev: _DimensionEvidence, score: float, scale_max: float) -> str:
    n = len(ev.answers)
    avg_words = round(_mean([a.words for a in ev.answers]))
    each = f"about {avg_words} words each" if n != 1 else f"about {avg_words} words"
    sentences = [
        f"Heuristic score {score:g}/{scale_max:g} from {n} answer{'s' if n != 1 else ''} on this dimension "
        f"({each}; answer quality {round1(ev.quality() * 100):g}%)."
    ]
    values = {f: ev.feature(f) for f in _FEATURES}
    strong = [f for f in _FEATURES if values[f] >= 0.75]
    weak = [f for f in _FEATURES if values[f] < 0.4]
    if strong:
        sentences.append("The candidate " + _join([_STRENGTH_TEXT[f] for f in strong]) + ".")
    if weak:
        prefix = "However, the answers " if strong else "The answers "
        sentences.append(prefix + _join([_WEAKNESS_TEXT[f] for f in weak]) + ".")
    if not strong and not weak:
        sentences.append(
            "Relevance, specificity, structure and reasoning were all moderate ("
            + ", ".join(
                f"{f} {_pct(values[f])}" for f in ("relevance", "specificity", "structure", "reasoning")
            )
            + ")."
        )
    extra = []
    hits: dict[str, str] = {}
    for a in ev.substantive:
        for h in (*a.skill_hits, *a.topic_hits):
            hits.setdefault(h.casefold(), h)
    if hits:
        extra.append("topic terms used: " + ", ".join(list(hits.values())[:4]))
    attempts = sum(a.instruction_attempt for a in ev.answers)
    if attempts:
        many = attempts != 1
        extra.append(
            f"{attempts} answer{'s' if many else ''} tried to instruct the interviewer and "
            f"{'were' if many else 'was'} scored as {'non-answers' if many else 'a non-answer'}"
        )
    if ev.code is not None:
        extra.append(f"code runs passed {ev.code[0]} of {ev.code[1]} tests")
    elif ev.had_coding_task:
        extra.append("no code run was recorded for the coding task")
    if extra:
        sentences.append(
            extra[0][0].upper() + extra[0][1:] + ("; " + "; ".join(extra[1:]) if extra[1:] else "") + "."
        )
    return " ".join(sentences[:4])


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _best_sentence(text: str) -> str:
    sentences = [m.group(0).strip() for m in _SENTENCE.finditer(text) if m.group(0).strip()]
    if not sentences:
        return ""
    clean = [s for s in sentences if assess_answer(s).off_topic is False] or sentences

    def rank(s: str) -> tuple[int, int]:
        return (len(_NUMBER.findall(s)) + 2 * (_count(s, _EXAMPLE) > 0) + _count(s, _REASONING), len(s))

    best = max(clean, key=rank)
    if len(best) > QUOTE_MAX_CHARS:
        cut = best[:QUOTE_MAX_CHARS]
        best = cut[: cut.rfind(" ")] if " " in cut else cut
    return best


def _citations(ev: _DimensionEvidence) -> list[Citation]:
    pool = ev.substantive or ev.answers
    ranked = sorted(pool, key=lambda a: (-a.q, a.turn.seq))
    out: list[Citation] = []
    for a in ranked:
        quote = _best_sentence(a.turn.text)
        if quote:
            out.append(Citation(turn=a.turn.seq, quote=quote))
        if len(out) == 2:
            break
    return out


# --- the interview as a whole ----------------------------------------------------------------------

_ADVICE = {
    "relevance": "Answer the question that was asked directly first, then add the context around it.",
    "specificity": "Support each answer with a concrete example from your own experience and numbers "
    "that show the result, such as scale, time saved or error rates.",
    "structure": "Structure longer answers: the situation, the steps you took in order, and the outcome.",
    "reasoning": "Explain why you made each choice and which alternatives or trade-offs you weighed.",
    "length": "Give fuller answers: a few sentences that show your own part in the work and what came of it.",
    "hedge_free": "Commit to an answer: say what you would do and why, rather than 'maybe' or 'I guess'.",
}


def _summary(spec: ScoringSpec, evidence: Sequence[_DimensionEvidence], scores: Mapping[str, float]) -> str:
    top = spec.scale_max
    parts = ["Heuristic assessment by the built-in offline scorer (no language model)."]
    covered = [ev for ev in evidence if ev.answers]
    if not covered:
        return parts[0] + " The candidate gave no answers to assess."
    best = max(covered, key=lambda ev: scores[ev.dim.name])
    worst = min(covered, key=lambda ev: scores[ev.dim.name])
    pooled = {f: _mean([ev.feature(f) for ev in covered]) for f in _FEATURES}
    good = [f for f in _FEATURES if pooled[f] >= 0.75]
    best_text = f"{best.dim.name} ({scores[best.dim.name]:g}/{top:g})"
    if scores[best.dim.name] >= top / 2:
        parts.append(f"Strongest on {best_text}.")
    else:
        parts.append(f"No dimension reached the middle of the scale; the highest was {best_text}.")
    if good:
        parts.append("Across the interview the candidate " + _join([_STRENGTH_TEXT[f] for f in good]) + ".")
    if worst is not best:
        weak = min(_FEATURES, key=lambda f: worst.feature(f))
        parts.append(
            f"Weakest on {worst.dim.name} ({scores[worst.dim.name]:g}/{top:g}), where the answers "
            f"{_WEAKNESS_TEXT[weak]}; the next interviewer should probe it."
        )
    uncovered = [ev.dim.name for ev in evidence if not ev.answers]
    if uncovered:
        parts.append(f"Not covered in this interview, so worth probing next: {_join(uncovered)}.")
    attempts = sum(a.instruction_attempt for ev in evidence for a in ev.answers)
    if attempts:
        parts.append(
            f"The candidate tried to instruct the interviewer or the grader {attempts} "
            f"time{'s' if attempts != 1 else ''}; those answers were scored as non-answers."
        )
    return " ".join(parts)


def _feedback(evidence: Sequence[_DimensionEvidence]) -> str:
    covered = [ev for ev in evidence if ev.substantive]
    if not covered:
        return (
            "Answer each question in a few sentences with a concrete example from your own experience, "
            "so your skills can be assessed."
        )
    pooled = {f: _mean([ev.feature(f) for ev in covered]) for f in _FEATURES}
    weakest = [f for f in sorted(_FEATURES, key=lambda f: pooled[f]) if pooled[f] < 0.75][:2]
    advice = [_ADVICE[f] for f in weakest]
    if any(a.instruction_attempt for ev in evidence for a in ev.answers):
        advice.append("Keep every reply focused on answering the interview questions.")
    if not advice:
        return (
            "Your answers were specific, structured and well reasoned; keep relating your examples to the "
            "skills the role asks for and to the results they achieved."
        )
    return " ".join(advice)


def grade(
    spec: ScoringSpec,
    turns: Sequence[TranscriptTurnIn],
    *,
    code_results: Sequence[CodeResultIn] = (),
    authenticity_signals: Mapping[str, Any] | None = None,
) -> Scorecard:
    """Score an interview with the built-in heuristics (see the module docstring)."""
    evidence = _evidence(spec, turns, code_results)
    top = spec.scale_max
    judgements: list[Judgement] = []
    scores: dict[str, float] = {}
    for ev in evidence:
        if not ev.answers:
            judgements.append(
                Judgement(
                    name=ev.dim.name,
                    score=None,
                    reasoning="The interview did not cover this dimension: the candidate answered no "
                    "question on it, so it is not scored.",
                )
            )
            continue
        score = round1(ev.quality() * top)
        scores[ev.dim.name] = score
        flags = [FLAG_INSTRUCTION] if any(a.instruction_attempt for a in ev.answers) else []
        judgements.append(
            Judgement(
                name=ev.dim.name,
                score=score,
                reasoning=_reasoning(ev, score, top),
                citations=_citations(ev),
                flags=flags,
            )
        )
    return build_scorecard(
        spec,
        quotes.verify_all(judgements, turns),
        turns,
        summary=_summary(spec, evidence, scores),
        improvement_feedback=_feedback(evidence),
        engine=ENGINE,
        authenticity_signals=authenticity_signals,
    )
