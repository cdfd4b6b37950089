"""Agent profile request/response shapes (camelCase, as the public API spells them)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

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


class Dimension(StrictModel):
    name: Label
    description: LongText = ""
    weight: float = Field(gt=0, le=100)
    passThreshold: float | None = Field(default=None, ge=0)


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


class Context(StrictModel):
    organizationContext: LongText | None = None
    domainContext: LongText | None = None
    scenarioContext: LongText | None = None


class Output(StrictModel):
    includeTranscript: Flag = True
    includeScoreBreakdown: Flag = True
    includeRecommendation: Flag = True
    includeImprovementFeedback: Flag = True


class AgentProfileCreate(StrictModel):
    name: Name
    persona: Text4000
    useCase: UseCase
    evaluationDimensions: Annotated[list[Dimension], Field(min_length=1, max_length=12)]
    interaction: Interaction = Interaction()
    scoring: Scoring = Scoring()
    context: Context = Context()
    output: Output = Output()
    additionalInstructions: LongText | None = None
    isPublic: Flag = False

    @model_validator(mode="after")
    def _rubric_rules(self) -> AgentProfileCreate:
        """Cross-field rules: unique names, weights summing to 100, thresholds on the scale,
        rule-based logic naming real dimensions. Each failure names its path."""
        from viva.errors import Issue, ValidationFailed

        issues: list[Issue] = []
        seen: set[str] = set()
        for i, dim in enumerate(self.evaluationDimensions):
            key = dim.name.casefold()
            if key in seen:
                issues.append(
                    Issue(
                        ["evaluationDimensions", i, "name"],
                        f"Duplicate dimension name '{dim.name}'; names must be unique",
                    )
                )
            seen.add(key)
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
    interaction: Interaction | None = None
    scoring: Scoring | None = None
    context: Context | None = None
    output: Output | None = None
    additionalInstructions: Clearable[LongText] = None
    isPublic: Flag | None = None


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
    created_at: Timestamp
    updated_at: Timestamp


class StageRef(ReadModel):
    id: uuid.UUID
    stage_name: str
    evaluation_template_id: uuid.UUID
