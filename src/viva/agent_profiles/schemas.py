"""Agent profile request/response shapes (camelCase, as the public API spells them)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from viva.kit.schemas import (
    Clearable,
    Flag,
    Label,
    LongText,
    Name,
    ReadModel,
    StrictModel,
    Text50,
    Text4000,
    Timestamp,
    UpdateModel,
)

UseCase = Literal["hiring", "admissions", "training", "custom_api"]
Tone = Literal["friendly", "professional", "strict", "challenging"]
Style = Literal["structured", "conversational", "adaptive"]
Difficulty = Literal["easy", "medium", "hard", "adaptive"]
Depth = Literal["low", "medium", "high"]
Scale = Literal["0-10", "0-5", "0-100"]
ScoringMethod = Literal["weighted_average", "rule_based"]
Op = Literal["<", "<=", ">", ">="]

SCALE_MAX = {"0-10": 10.0, "0-5": 5.0, "0-100": 100.0}
WEIGHT_TOLERANCE = 0.01
# The vendor's rubric form gives weights as fractions of 1: when every weight is at most this,
# they are shares, normalised to percentages summing to 100 whatever their sum ("should sum to
# 1.0; the platform normalizes them if not"). Percentages must still sum to 100: no
# percentage form can have every weight ≤ 1 (12 dimensions at most), so the two never overlap.
FRACTION_MAX = 1.0
DimensionId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]


def dimension_id(name: str) -> str:
    """The id derived from a name: lower-cased, each run of non-alphanumerics as `_`."""
    return re.sub(r"[^a-z0-9]+", "_", name.casefold()).strip("_") or "dimension"


def normalised_weights(weights: list[float]) -> list[float] | None:
    """Percentages summing to 100 for fractional weights (every weight ≤ 1), else None."""
    if not weights or any(w > FRACTION_MAX for w in weights):
        return None
    total = sum(weights)
    return [round(w / total * 100.0, 4) for w in weights]


class Dimension(StrictModel):
    """One scoring axis. Today's `{name, description, weight, passThreshold?}` or the vendor's
    `{id, label, weight, passThreshold?, description?}`: `name` is the label when absent and
    `id` is derived from the name when absent, so every stored dimension has both."""

    id: DimensionId | None = None
    name: Label | None = None
    label: Label | None = None
    description: LongText = ""
    weight: float = Field(gt=0, le=100)
    passThreshold: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _names(self) -> Dimension:
        self.name = self.name or self.label
        if not self.name:
            raise ValueError("A dimension needs a name (or a label)")
        self.label = self.label or self.name
        self.id = self.id or dimension_id(self.name)
        return self


class Rubric(StrictModel):
    """The vendor's rubric object: dimensions and the overall bar on the profile's scale."""

    dimensions: Annotated[list[Dimension], Field(min_length=1, max_length=12)]
    overallPassThreshold: float | None = Field(default=None, ge=0)


class Interaction(StrictModel):
    tone: Tone = "professional"
    style: Style = "structured"
    difficulty: Difficulty = "medium"
    probingDepth: Depth = "medium"


class RuleCondition(StrictModel):
    dimension: Label = Field(description='A dimension name, or "overall"')
    op: Op
    value: float


class Rule(StrictModel):
    when: RuleCondition
    recommendation: Text50


class RecommendationLogic(StrictModel):
    rules: Annotated[list[Rule], Field(max_length=50)] = []
    default: Text50


class Scoring(StrictModel):
    scale: Scale = "0-10"
    scoringMethod: ScoringMethod = "weighted_average"
    recommendationLogic: RecommendationLogic | None = None
    overallPassThreshold: float | None = Field(
        default=None,
        ge=0,
        description="The overall bar on the scale, used when the stage sets no pass_threshold; "
        "absent: 70% of the scale's maximum (7.0 on 0-10)",
    )


class Context(StrictModel):
    organizationContext: LongText | None = None
    domainContext: LongText | None = None
    scenarioContext: LongText | None = None


class Output(StrictModel):
    includeTranscript: Flag = True
    includeScoreBreakdown: Flag = True
    includeRecommendation: Flag = True
    includeImprovementFeedback: Flag = True


def _rubric_into_fields(data: Any) -> Any:
    """The vendor's `rubric` object is another spelling of `evaluationDimensions` plus
    `scoring.overallPassThreshold`; it is unpacked before validation so both spellings meet the
    same rules and only one is stored."""
    if not isinstance(data, dict) or data.get("rubric") is None:
        return data
    from viva.errors import Issue, ValidationFailed

    data = dict(data)
    rubric = data.pop("rubric")
    if not isinstance(rubric, dict) or not set(rubric) <= {"dimensions", "overallPassThreshold"}:
        raise ValidationFailed([Issue(["rubric"], "Expected {dimensions, overallPassThreshold?}")])
    if data.get("evaluationDimensions") is not None:
        raise ValidationFailed([Issue(["rubric"], "Give either rubric or evaluationDimensions, not both")])
    data["evaluationDimensions"] = rubric.get("dimensions")
    if rubric.get("overallPassThreshold") is not None:
        scoring = dict(data.get("scoring") or {})
        scoring["overallPassThreshold"] = rubric["overallPassThreshold"]
        data["scoring"] = scoring
    return data


def _dimensions_or_rubric(schema: dict[str, Any]) -> None:
    """The document says what the server takes: `evaluationDimensions` or the vendor's `rubric`."""
    schema["required"] = [name for name in schema.get("required", []) if name != "evaluationDimensions"]
    schema["anyOf"] = [{"required": ["evaluationDimensions"]}, {"required": ["rubric"]}]


class AgentProfileCreate(StrictModel):
    model_config = ConfigDict(json_schema_extra=_dimensions_or_rubric)

    name: Name
    persona: Text4000
    useCase: UseCase
    evaluationDimensions: Annotated[list[Dimension], Field(min_length=1, max_length=12)]
    rubric: Rubric | None = Field(
        default=None,
        description="The vendor's rubric form, instead of evaluationDimensions: its dimensions "
        "become evaluationDimensions and its overallPassThreshold scoring.overallPassThreshold",
    )
    interaction: Interaction = Interaction()
    scoring: Scoring = Scoring()
    context: Context = Context()
    output: Output = Output()
    additionalInstructions: LongText | None = None
    isPublic: Flag = False

    @model_validator(mode="before")
    @classmethod
    def _vendor_rubric(cls, data: Any) -> Any:
        return _rubric_into_fields(data)

    # True when the weights given were fractions, now percentages summing to 100.
    _weights_normalized: bool = PrivateAttr(default=False)

    @property
    def weights_normalized(self) -> bool:
        return self._weights_normalized

    @model_validator(mode="after")
    def _rubric_rules(self) -> AgentProfileCreate:
        """Cross-field rules: unique names and ids, weights summing to 100 (fractional weights
        normalised first), thresholds on the scale, rule-based logic naming real dimensions.
        Each failure names its path."""
        from viva.errors import Issue, ValidationFailed

        issues: list[Issue] = []
        seen: set[str] = set()
        ids: set[str] = set()
        for i, dim in enumerate(self.evaluationDimensions):
            key = str(dim.name).casefold()
            if key in seen:
                issues.append(
                    Issue(
                        ["evaluationDimensions", i, "name"],
                        f"Duplicate dimension name '{dim.name}'; names must be unique",
                    )
                )
            elif str(dim.id) in ids:
                issues.append(
                    Issue(
                        ["evaluationDimensions", i, "id"],
                        f"Duplicate dimension id '{dim.id}'; ids must be unique",
                    )
                )
            seen.add(key)
            ids.add(str(dim.id))
        normalised = normalised_weights([d.weight for d in self.evaluationDimensions])
        if normalised is not None:
            for dim, weight in zip(self.evaluationDimensions, normalised, strict=True):
                dim.weight = weight
            self._weights_normalized = True
        total = sum(d.weight for d in self.evaluationDimensions)
        if abs(total - 100) > WEIGHT_TOLERANCE:
            issues.append(
                Issue(["evaluationDimensions"], f"Dimension weights must sum to 100; they sum to {total:g}")
            )
        top = SCALE_MAX[self.scoring.scale]
        for i, dim in enumerate(self.evaluationDimensions):
            if dim.passThreshold is not None and dim.passThreshold > top:
                issues.append(
                    Issue(
                        ["evaluationDimensions", i, "passThreshold"],
                        f"passThreshold {dim.passThreshold:g} is above the scale's maximum "
                        f"({top:g} on {self.scoring.scale})",
                    )
                )
        overall = self.scoring.overallPassThreshold
        if overall is not None and overall > top:
            issues.append(
                Issue(
                    ["scoring", "overallPassThreshold"],
                    f"overallPassThreshold {overall:g} is above the scale's maximum "
                    f"({top:g} on {self.scoring.scale})",
                )
            )
        logic = self.scoring.recommendationLogic
        if logic is not None:
            for i, rule in enumerate(logic.rules):
                name = rule.when.dimension
                if name != "overall" and name.casefold() not in seen:
                    issues.append(
                        Issue(
                            ["scoring", "recommendationLogic", "rules", i, "when", "dimension"],
                            f"Unknown dimension '{name}'; use 'overall' or one of the "
                            "profile's dimension names",
                        )
                    )
        if self.scoring.scoringMethod == "rule_based" and logic is None:
            issues.append(
                Issue(["scoring", "recommendationLogic"], "Required when scoringMethod is rule_based")
            )
        if issues:
            raise ValidationFailed(issues)
        return self


class AgentProfileUpdate(UpdateModel):
    """Every field optional; nested objects merge field by field, lists are replaced."""

    name: Name | None = None
    persona: Text4000 | None = None
    useCase: UseCase | None = None
    evaluationDimensions: Annotated[list[Dimension], Field(min_length=1, max_length=12)] | None = None
    rubric: Rubric | None = Field(
        default=None, description="The vendor's rubric form; replaces evaluationDimensions"
    )
    interaction: Interaction | None = None
    scoring: Scoring | None = None
    context: Context | None = None
    output: Output | None = None
    additionalInstructions: Clearable[LongText] = None
    isPublic: Flag | None = None

    @property
    def weights_normalized(self) -> bool:
        """True when this change gives fractional weights (stored normalised to 100)."""
        dims = self.evaluationDimensions or (self.rubric.dimensions if self.rubric else None)
        return normalised_weights([d.weight for d in dims or []]) is not None


class AgentProfileFork(StrictModel):
    sourceId: uuid.UUID = Field(description="Id of a public profile (or one of your own) to copy")


class AgentProfileRead(BaseModel):
    id: uuid.UUID
    name: str
    persona: str
    useCase: str
    evaluationDimensions: list[Dimension]
    interaction: Interaction
    scoring: Scoring
    context: Context
    output: Output
    additionalInstructions: str | None
    isPublic: bool
    forkedFromId: uuid.UUID | None
    weightsNormalized: bool = Field(
        default=False,
        description="True in the response to the request whose fractional weights were "
        "normalised to percentages summing to 100",
    )
    created_at: Timestamp
    updated_at: Timestamp


class StageRef(ReadModel):
    id: uuid.UUID
    stage_name: str
    evaluation_template_id: uuid.UUID
