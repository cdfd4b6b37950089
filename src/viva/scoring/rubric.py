"""Rubric maths: from per-dimension judgements to a scorecard (SPEC §5). Pure: no I/O, no clock.

A grader (the built-in heuristic or an LLM) only judges dimensions: a score on the profile's
scale or `None` (never covered), a reasoning and citations. Everything else is computed here, the
same way for every grader, so no grader can talk its way to a pass:

- **Weighted average.** overall = Σ(weight × score) / Σ(weight) over the *covered* dimensions
  (weights renormalised), rounded half-up to 1 decimal. `score_percent` = overall / scale max ×
  100, from the rounded overall, rounded to 1 decimal. No covered dimension → overall 0.0.
- **Coverage** = Σ weight of covered dimensions / Σ weight of all dimensions, 0..1, 3 decimals,
  but at most 0.999 while any dimension is uncovered (a tiny uncovered weight must not round up
  to full coverage). A dimension is covered when its grader gave it a score (not `None`).
- **Passed** = score_percent ≥ the bar and every dimension with a `passThreshold` scored at least
  that (so one dimension below its bar fails the candidate even when the overall clears); an
  uncovered dimension with a `passThreshold` has not met it. The bar (`ScoringSpec.from_data`) is
  the stage's `pass_threshold` when set, else the rubric's `overallPassThreshold` as a percentage
  of the scale, else `DEFAULT_BAR_PERCENT` (70%: 7.0 on 0–10, the vendor's default).
- **Recommendation.** The vocabulary comes from `success_outcome` (derived from the use case when
  absent); `custom` takes its labels from `recommendationLogic` (rule labels in order, then the
  default), else pass|fail. weighted_average: the first label when passed, else the negative one
  (the vocabulary's second label; for custom, the logic's default). rule_based: the rules in
  order, first match wins, else the default; a rule compares a score *on the profile's scale*
  (a dimension's, or the overall); a rule about an uncovered dimension never matches.
- **Hard cap.** `signal(turns)` counts the candidate's answers to questions, follow-ups and coding
  tasks, how many are substantive (≥ `SUBSTANTIVE_WORDS` words and not an attempt to instruct the
  interviewer, per `viva.interview.core.assess_answer`) and the candidate's total words. Fewer
  than `MIN_SUBSTANTIVE_ANSWERS` substantive answers or fewer than `MIN_CANDIDATE_WORDS` words is
  too little signal: every dimension score is capped at `CAP_PERCENT` of the scale (inside the
  lowest band, see `BANDS`), so the overall cannot leave the lowest band whatever the grader
  said, `passed` is False and the recommendation is the negative one (rule_based with a custom
  vocabulary: the rules decide on the capped scores).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from viva.interview.core import Dimension, assess_answer

Scale = Literal["0-10", "0-5", "0-100"]
SCALES: dict[str, float] = {"0-10": 10.0, "0-5": 5.0, "0-100": 100.0}
METHODS: tuple[str, ...] = ("weighted_average", "rule_based")
OPS: tuple[str, ...] = ("<", "<=", ">", ">=")

# success_outcome → (positive, negative) labels (SPEC §5).
VOCABULARY: dict[str, tuple[str, str]] = {
    "hire_no_hire": ("hire", "no_hire"),
    "admit_reject": ("admit", "reject"),
    "pass_fail": ("pass", "fail"),
    "ready_needs_training": ("ready", "needs_training"),
    "certified_not_certified": ("certified", "not_certified"),
}
# use_case → success_outcome when the template gives none (SPEC §3.2).
DERIVED_OUTCOME: dict[str, str] = {
    "hiring": "hire_no_hire",
    "admissions": "admit_reject",
    "training": "ready_needs_training",
    "custom_api": "pass_fail",
}

# Score bands as fractions of the scale's maximum: [lower bound, next band's lower bound).
BANDS: tuple[tuple[str, float], ...] = (
    ("insufficient", 0.0),
    ("developing", 0.25),
    ("competent", 0.50),
    ("strong", 0.75),
)
DEFAULT_BAR_PERCENT = 70.0  # the vendor's default overallPassThreshold: 7.0 on 0-10
CAP_PERCENT = 20.0  # the hard cap, inside the lowest band (below 25% of the scale)
SUBSTANTIVE_WORDS = 12  # an answer this long (and not an instruction attempt) is substantive
MIN_SUBSTANTIVE_ANSWERS = 3
MIN_CANDIDATE_WORDS = 80
ANSWERED_KINDS = ("question", "follow_up", "coding_task")  # interviewer turns whose replies are evidence

FLAG_CAPPED = "capped_low_signal"


# --- inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptTurnIn:
    """One stored transcript turn as the scorer sees it. `seq` is the turn number citations use;
    `speaker` is interviewer | candidate | system; `dimension` is set on interviewer turns."""

    seq: int
    speaker: str
    kind: str
    text: str
    dimension: str | None = None


@dataclass(frozen=True)
class CodeResultIn:
    """Tests passed by a code run during the interview. `dimension` None: the dimension of the
    last coding task."""

    dimension: str | None
    tests_passed: int
    tests_total: int


# The rubric's dimension is the interview's: name, description, weight (%), passThreshold (on the scale).
DimensionSpec = Dimension


@dataclass(frozen=True)
class Rule:
    """`when dimension op value → recommendation`; `dimension` is a dimension name or "overall"."""

    dimension: str
    op: str
    value: float
    recommendation: str


@dataclass(frozen=True)
class RecommendationLogic:
    """The profile's `recommendationLogic`: rules checked in order, else `default`."""

    rules: tuple[Rule, ...]
    default: str

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> RecommendationLogic | None:
        """Parse the API shape `{"rules": [{"when": {dimension, op, value}, "recommendation"}], "default"}`.

        Returns None for None; raises ValueError on an unknown operator or a missing default.
        """
        if not data:
            return None
        rules = []
        for raw in data.get("rules") or []:
            when = raw.get("when") or {}
            op = str(when.get("op"))
            if op not in OPS:
                raise ValueError(f"unknown rule operator {op!r}")
            value = when.get("value")
            if not isinstance(value, int | float):
                raise ValueError(f"rule value {value!r} is not a number")
            rules.append(
                Rule(
                    dimension=str(when.get("dimension")),
                    op=op,
                    value=float(value),
                    recommendation=str(raw.get("recommendation")),
                )
            )
        default = data.get("default")
        if not default:
            raise ValueError("recommendationLogic needs a default")
        return cls(rules=tuple(rules), default=str(default))

    def to_data(self) -> dict[str, Any]:
        """Back to the API shape."""
        return {
            "rules": [
                {
                    "when": {"dimension": r.dimension, "op": r.op, "value": r.value},
                    "recommendation": r.recommendation,
                }
                for r in self.rules
            ],
            "default": self.default,
        }

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label the logic can give: rule labels in order, then the default, without repeats."""
        out: list[str] = []
        for label in [*(r.recommendation for r in self.rules), self.default]:
            if label not in out:
                out.append(label)
        return tuple(out)


@dataclass(frozen=True)
class RoleInfo:
    """What the candidate is assessed for: the template's role and the profile's context."""

    template_name: str = ""
    objective: str = ""
    description: str = ""
    skills: tuple[str, ...] = ()
    soft_skills: tuple[str, ...] = ()
    level: str = ""
    requirements: str = ""
    language: str = "en"
    organization_context: str = ""
    domain_context: str = ""
    scenario_context: str = ""


@dataclass(frozen=True)
class OutputFlags:
    """The profile's `output` flags (SPEC §3.1): False removes that part everywhere."""

    include_transcript: bool = True
    include_score_breakdown: bool = True
    include_recommendation: bool = True
    include_improvement_feedback: bool = True

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> OutputFlags:
        d = data or {}
        return cls(
            include_transcript=bool(d.get("includeTranscript", True)),
            include_score_breakdown=bool(d.get("includeScoreBreakdown", True)),
            include_recommendation=bool(d.get("includeRecommendation", True)),
            include_improvement_feedback=bool(d.get("includeImprovementFeedback", True)),
        )


@dataclass(frozen=True)
class ScoringSpec:
    """Everything scoring needs about the rubric, the role and the bar; build with `from_data`.

    `stage_pass_threshold` is the overall bar as a percentage (0–100), None only when built by
    hand without one (then only dimension bars and the hard cap can fail a candidate);
    `success_outcome` None means derived from `use_case`.
    """

    dimensions: tuple[DimensionSpec, ...]
    scale: str = "0-10"
    method: str = "weighted_average"
    recommendation_logic: RecommendationLogic | None = None
    success_outcome: str | None = None
    stage_pass_threshold: float | None = None
    use_case: str = "hiring"
    role: RoleInfo = field(default_factory=RoleInfo)
    output: OutputFlags = field(default_factory=OutputFlags)

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"unknown scale {self.scale!r}; expected one of {', '.join(SCALES)}")
        if self.method not in METHODS:
            raise ValueError(f"unknown scoring method {self.method!r}")
        if not self.dimensions:
            raise ValueError("a rubric needs at least one dimension")

    @classmethod
    def from_data(
        cls,
        *,
        profile: Mapping[str, Any],
        template: Mapping[str, Any] | None = None,
        stage: Mapping[str, Any] | None = None,
    ) -> ScoringSpec:
        """Build from API-shaped data: the profile in camelCase, template and stage in snake_case
        (e.g. an interview snapshot's `profile`, `template` and `stage`). Missing fields take the
        SPEC defaults; the bar is always set (see the module docstring)."""
        dims = []
        for raw in profile.get("evaluationDimensions") or []:
            threshold = raw.get("passThreshold")
            dims.append(
                DimensionSpec(
                    name=str(raw.get("name") or ""),
                    description=str(raw.get("description") or ""),
                    weight=float(raw.get("weight") or 0.0),
                    pass_threshold=float(threshold) if threshold is not None else None,
                )
            )
        scoring = profile.get("scoring") or {}
        ctx = profile.get("context") or {}
        tpl = template or {}
        stg = stage or {}
        scale = str(scoring.get("scale") or "0-10")
        threshold = stg.get("pass_threshold")
        overall = scoring.get("overallPassThreshold")
        if threshold is None and overall is not None and scale in SCALES:
            threshold = float(overall) / SCALES[scale] * 100.0
        if threshold is None:
            threshold = DEFAULT_BAR_PERCENT

        def strs(key: str) -> tuple[str, ...]:
            value = tpl.get(key) or []
            return tuple(str(v) for v in value if v is not None and str(v).strip())

        return cls(
            dimensions=tuple(dims),
            scale=scale,
            method=str(scoring.get("scoringMethod") or "weighted_average"),
            recommendation_logic=RecommendationLogic.from_data(scoring.get("recommendationLogic")),
            success_outcome=tpl.get("success_outcome") or None,
            stage_pass_threshold=float(threshold),
            use_case=str(tpl.get("use_case") or profile.get("useCase") or "hiring"),
            role=RoleInfo(
                template_name=str(tpl.get("template_name") or ""),
                objective=str(tpl.get("objective") or ""),
                description=str(tpl.get("description") or ""),
                skills=strs("skills"),
                soft_skills=strs("soft_skills"),
                level=str(tpl.get("level") or ""),
                requirements=str(tpl.get("requirements") or ""),
                language=str(tpl.get("language") or "en"),
                organization_context=str(ctx.get("organizationContext") or ""),
                domain_context=str(ctx.get("domainContext") or ""),
                scenario_context=str(ctx.get("scenarioContext") or ""),
            ),
            output=OutputFlags.from_data(profile.get("output")),
        )

    @property
    def scale_max(self) -> float:
        return scale_max(self.scale)

    @property
    def outcome(self) -> str:
        """The success_outcome in force (given, or derived from the use case)."""
        return self.success_outcome or DERIVED_OUTCOME.get(self.use_case, "pass_fail")


# --- outputs --------------------------------------------------------------------------------------


class Citation(BaseModel):
    """A verbatim quote from transcript turn number `turn` (its `seq`)."""

    turn: int
    quote: str


class DimensionResult(BaseModel):
    """One dimension of the scorecard. `score` None: not covered. `passed` None: no passThreshold."""

    name: str
    weight: float
    score: float | None
    reasoning: str
    citations: list[Citation] = Field(default_factory=list)
    pass_threshold: float | None = None
    passed: bool | None = None
    covered: bool
    flags: list[str] = Field(default_factory=list)


class Capped(BaseModel):
    """Why the hard cap applied and the highest score it allowed (on the scale)."""

    reason: str
    max_score: float


class Engine(BaseModel):
    """What produced the judgements: provider, model, prompt version and method."""

    provider: str
    model: str
    prompt_version: str | None = None
    method: Literal["heuristic", "llm"]


class RuleOutcome(BaseModel):
    """rule_based only: the logic applied and which rule decided (0-based index; None = default)."""

    recommendationLogic: dict[str, Any]
    matched_rule: int | None


class Scorecard(BaseModel):
    """The finished scorecard. `render(flags)` gives the JSON with the output flags applied."""

    dimensions: list[DimensionResult]
    score: float
    scale: str
    score_percent: float
    passed: bool
    recommendation: str
    scoring_method: str
    rule_based: RuleOutcome | None = None
    coverage: float
    capped: Capped | None = None
    summary: str
    improvement_feedback: str
    authenticity_signals: dict[str, Any] | None = None
    engine: Engine

    def render(self, flags: OutputFlags | None = None) -> dict[str, Any]:
        """JSON-ready dict with the profile's output flags applied: includeScoreBreakdown=false
        drops `dimensions` and `rule_based`; includeRecommendation=false drops `recommendation`
        and `rule_based`; includeImprovementFeedback=false drops `improvement_feedback`;
        includeTranscript=false drops every dimension's `citations` (they are transcript text)."""
        flags = flags or OutputFlags()
        out = self.model_dump(mode="json")
        if not flags.include_transcript:
            for dim in out["dimensions"]:
                dim.pop("citations", None)
        if not flags.include_score_breakdown:
            out.pop("dimensions", None)
            out.pop("rule_based", None)
        if not flags.include_recommendation:
            out.pop("recommendation", None)
            out.pop("rule_based", None)
        if not flags.include_improvement_feedback:
            out.pop("improvement_feedback", None)
        return out


@dataclass
class Judgement:
    """A grader's verdict on one dimension, before the rubric maths: score on the scale or None."""

    name: str
    score: float | None
    reasoning: str
    citations: list[Citation] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


# --- maths ----------------------------------------------------------------------------------------


def scale_max(scale: str) -> float:
    """The top of a scale: 10, 5 or 100. Raises ValueError for an unknown scale."""
    try:
        return SCALES[scale]
    except KeyError:
        raise ValueError(f"unknown scale {scale!r}") from None


def round1(value: float) -> float:
    """Round half-up to 1 decimal (7.25 → 7.3; Python's round() would give 7.2)."""
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def weighted_average(dims: Sequence[tuple[float, float | None]]) -> float | None:
    """Σ(weight × score) / Σ(weight) over the pairs whose score is not None, rounded to 1 decimal;
    None when nothing is covered. Pairs are (weight, score)."""
    covered = [(w, s) for w, s in dims if s is not None]
    total = sum(w for w, _ in covered)
    if not covered or total <= 0:
        return None
    return round1(sum(w * s for w, s in covered) / total)


def score_percent(score: float, scale: str) -> float:
    """score / scale max × 100, rounded to 1 decimal."""
    return round1(score / scale_max(scale) * 100.0)


def coverage(dims: Sequence[tuple[float, float | None]]) -> float:
    """The share of the rubric's weight whose dimension was covered (scored), 0..1, 3 decimals;
    never rounded up to 1 while a dimension is uncovered (SPEC §5: then coverage < 1)."""
    total = sum(w for w, _ in dims)
    if total <= 0:
        return 0.0
    share = round(sum(w for w, s in dims if s is not None) / total, 3)
    if share >= 1.0 and any(s is None for _, s in dims):
        return 0.999  # e.g. an uncovered dimension of weight 0.01 out of 100
    return share


def band(score: float, scale: str) -> str:
    """The band name of a score (see `BANDS`)."""
    fraction = score / scale_max(scale)
    name = BANDS[0][0]
    for label, lower in BANDS:
        if fraction >= lower:
            name = label
    return name


def cap_score(scale: str) -> float:
    """The highest score allowed under the hard cap, on the scale."""
    return round1(scale_max(scale) * CAP_PERCENT / 100.0)


def dimension_passed(score: float | None, threshold: float | None) -> bool | None:
    """None without a threshold; False when uncovered; else score ≥ threshold."""
    if threshold is None:
        return None
    return score is not None and score >= threshold


def passed(percent: float, stage_threshold: float | None, dimension_results: Sequence[bool | None]) -> bool:
    """SPEC §5: percent ≥ the stage threshold (when set) and no dimension's threshold unmet."""
    if stage_threshold is not None and percent < stage_threshold:
        return False
    return all(r is not False for r in dimension_results)


def vocabulary(
    success_outcome: str | None, use_case: str = "hiring", logic: RecommendationLogic | None = None
) -> tuple[str, ...]:
    """The labels a recommendation can take, positive first (see the module docstring)."""
    outcome = success_outcome or DERIVED_OUTCOME.get(use_case, "pass_fail")
    if outcome == "custom":
        return logic.labels if logic is not None else VOCABULARY["pass_fail"]
    return VOCABULARY.get(outcome, VOCABULARY["pass_fail"])


def negative_label(
    success_outcome: str | None, use_case: str = "hiring", logic: RecommendationLogic | None = None
) -> str:
    """The recommendation for a candidate who did not pass."""
    outcome = success_outcome or DERIVED_OUTCOME.get(use_case, "pass_fail")
    labels = vocabulary(outcome, use_case, logic)
    if outcome == "custom" and logic is not None:
        return logic.default if logic.default != labels[0] or len(labels) == 1 else labels[-1]
    return labels[1]


def _compare(left: float, op: str, right: float) -> bool:
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    if op == ">=":
        return left >= right
    raise ValueError(f"unknown rule operator {op!r}")


def apply_rules(
    logic: RecommendationLogic, overall: float | None, scores: Mapping[str, float | None]
) -> tuple[str, int | None]:
    """The first rule that matches decides, else the default. Returns (label, rule index or None).

    Dimension names match case-insensitively; a rule about an uncovered (None) or unknown
    dimension does not match.
    """
    folded = {name.casefold(): s for name, s in scores.items()}
    for i, rule in enumerate(logic.rules):
        target = overall if rule.dimension.casefold() == "overall" else folded.get(rule.dimension.casefold())
        if target is not None and _compare(target, rule.op, rule.value):
            return rule.recommendation, i
    return logic.default, None


# --- signal and the hard cap ---------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    """How much the candidate actually said: answers to questions/follow-ups/coding tasks, how many
    were substantive, and the candidate's words in those answers."""

    answers: int
    substantive_answers: int
    candidate_words: int


def answers_by_prompt(turns: Sequence[TranscriptTurnIn]) -> list[tuple[TranscriptTurnIn, TranscriptTurnIn]]:
    """(interviewer turn, candidate turn) pairs: each candidate turn with the interviewer turn
    before it. System events in between are skipped; candidate turns before any interviewer turn
    are left out. An interviewer "reply" (repeating the question, answering the candidate's own
    question) is not a prompt: the answer after it answers the question before it."""
    out: list[tuple[TranscriptTurnIn, TranscriptTurnIn]] = []
    prompt: TranscriptTurnIn | None = None
    for turn in sorted(turns, key=lambda t: t.seq):
        if turn.speaker == "interviewer":
            if turn.kind != "reply" or prompt is None:
                prompt = turn
        elif turn.speaker == "candidate" and prompt is not None:
            out.append((prompt, turn))
    return out


def signal(turns: Sequence[TranscriptTurnIn]) -> Signal:
    """Measure the candidate's signal (see the module docstring)."""
    answers = substantive = words = 0
    for prompt, reply in answers_by_prompt(turns):
        if prompt.kind not in ANSWERED_KINDS:
            continue
        answers += 1
        assessment = assess_answer(reply.text)
        words += assessment.words
        if assessment.words >= SUBSTANTIVE_WORDS and not assessment.off_topic:
            substantive += 1
    return Signal(answers, substantive, words)


def too_little_signal(sig: Signal) -> str | None:
    """The reason the hard cap applies, or None when there is enough signal."""
    problems = []
    if sig.substantive_answers < MIN_SUBSTANTIVE_ANSWERS:
        problems.append(
            f"{sig.substantive_answers} substantive answer{'s' if sig.substantive_answers != 1 else ''} "
            f"(at least {MIN_SUBSTANTIVE_ANSWERS} needed)"
        )
    if sig.candidate_words < MIN_CANDIDATE_WORDS:
        problems.append(
            f"{sig.candidate_words} words from the candidate (at least {MIN_CANDIDATE_WORDS} needed)"
        )
    if not problems:
        return None
    return "Too little candidate signal: " + " and ".join(problems) + "."


# --- assembly -------------------------------------------------------------------------------------


def clamp_score(score: float | None, scale: str) -> float | None:
    """Round to 1 decimal and keep within 0..scale max."""
    if score is None:
        return None
    return round1(min(scale_max(scale), max(0.0, float(score))))


def build_scorecard(
    spec: ScoringSpec,
    judgements: Sequence[Judgement],
    turns: Sequence[TranscriptTurnIn],
    *,
    summary: str,
    improvement_feedback: str,
    engine: Engine,
    authenticity_signals: Mapping[str, Any] | None = None,
) -> Scorecard:
    """Turn per-dimension judgements into the scorecard: renormalised overall, percent, coverage,
    passed, recommendation, and the hard cap from `signal(turns)`.

    Judgements are matched to the rubric's dimensions by name (case-insensitively); a dimension
    without a judgement is uncovered. Citations are taken as given: verify them first
    (`viva.scoring.quotes.verify`).
    """
    by_name = {j.name.casefold(): j for j in judgements}
    cap_reason = too_little_signal(signal(turns))
    ceiling = cap_score(spec.scale)
    results: list[DimensionResult] = []
    for dim in spec.dimensions:
        j = by_name.get(dim.name.casefold())
        score = clamp_score(j.score if j else None, spec.scale)
        flags = list(j.flags) if j else []
        reasoning = j.reasoning.strip() if j else ""
        if score is None:
            reasoning = reasoning or "The interview did not cover this dimension, so it is not scored."
        if cap_reason is not None and score is not None and score > ceiling:
            score = ceiling
            flags.append(FLAG_CAPPED)
        results.append(
            DimensionResult(
                name=dim.name,
                weight=dim.weight,
                score=score,
                reasoning=reasoning,
                citations=list(j.citations) if j and score is not None else [],
                pass_threshold=dim.pass_threshold,
                passed=dimension_passed(score, dim.pass_threshold),
                covered=score is not None,
                flags=flags,
            )
        )
    pairs = [(r.weight, r.score) for r in results]
    overall = weighted_average(pairs)
    overall_score = overall if overall is not None else 0.0
    percent = score_percent(overall_score, spec.scale)
    ok = passed(percent, spec.stage_pass_threshold, [r.passed for r in results])
    if cap_reason is not None or overall is None:
        ok = False
    logic = spec.recommendation_logic
    labels = vocabulary(spec.outcome, spec.use_case, logic)
    negative = negative_label(spec.outcome, spec.use_case, logic)
    rule_outcome: RuleOutcome | None = None
    if spec.method == "rule_based" and logic is not None:
        label, index = apply_rules(logic, overall, {r.name: r.score for r in results})
        if cap_reason is not None and spec.outcome != "custom":
            label = negative
        rule_outcome = RuleOutcome(recommendationLogic=logic.to_data(), matched_rule=index)
        recommendation = label
    else:
        recommendation = labels[0] if ok else negative
    return Scorecard(
        dimensions=results,
        score=overall_score,
        scale=spec.scale,
        score_percent=percent,
        passed=ok,
        recommendation=recommendation,
        scoring_method=spec.method,
        rule_based=rule_outcome,
        coverage=coverage(pairs),
        capped=Capped(reason=cap_reason, max_score=ceiling) if cap_reason is not None else None,
        summary=_with_cap_note(summary.strip(), cap_reason),
        improvement_feedback=improvement_feedback.strip(),
        authenticity_signals=dict(authenticity_signals) if authenticity_signals is not None else None,
        engine=engine,
    )


def _with_cap_note(summary: str, cap_reason: str | None) -> str:
    if cap_reason is None:
        return summary
    note = f"{cap_reason} The score is capped at the lowest band."
    return f"{summary} {note}".strip()
