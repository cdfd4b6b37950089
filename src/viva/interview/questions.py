"""The built-in interviewer's question bank and templates.

Everything here is a pure function of the interview configuration, the dimension, the difficulty,
an index and an explicit `seed`: the same inputs always give the same words. Text taken from the
configuration (skills, resume excerpts, titles) is interpolated into templates, and every finished
question is checked against `PROTECTED`; a question that would mention a protected characteristic
falls back to a template with no interpolated text at all.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from viva.interview import coding_tasks

if TYPE_CHECKING:
    from viva.interview.core import Dimension, InterviewConfig

DIFFICULTIES: tuple[str, ...] = ("easy", "medium", "hard")

# Words and phrases an interviewer must never ask about (protected characteristics). Checked on
# word boundaries, case-insensitively, over every question the built-in engine produces.
PROTECTED: frozenset[str] = frozenset(
    {
        # age
        "age",
        "aged",
        "how old",
        "birthday",
        "date of birth",
        "year of birth",
        "born",
        "retire",
        "retirement",
        # religion
        "religion",
        "religious",
        "church",
        "mosque",
        "synagogue",
        "temple",
        "faith",
        "pray",
        # ethnicity / nationality / origin
        "race",
        "racial",
        "ethnic",
        "ethnicity",
        "nationality",
        "national origin",
        "citizenship",
        "native country",
        "where are you from",
        "accent",
        "immigrant",
        "skin",
        # marital / family status, pregnancy
        "married",
        "marital",
        "spouse",
        "husband",
        "wife",
        "partner's",
        "children",
        "kids",
        "family",
        "pregnant",
        "pregnancy",
        "maternity",
        "paternity",
        "childcare",
        # disability / health
        "disability",
        "disabled",
        "handicap",
        "health",
        "illness",
        "medical",
        "medication",
        "diagnosis",
        "mental",
        # sexual orientation / gender identity
        "sexual",
        "orientation",
        "gay",
        "lesbian",
        "bisexual",
        "transgender",
        "gender",
        "pronouns",
        # political views
        "political",
        "politics",
        "vote",
        "voted",
        "union membership",
    }
)

_PROTECTED_RE = re.compile(
    r"\b(?:" + "|".join(re.escape(w) for w in sorted(PROTECTED, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)

SAFE_FALLBACK = (
    "Tell me about a recent piece of work you are proud of: what was the goal, what did you do "
    "yourself, and what was the result?"
)


def mentions_protected(text: str) -> bool:
    """True when `text` contains a word or phrase from `PROTECTED` (word boundaries, any case)."""
    return _PROTECTED_RE.search(text) is not None


# --- categories -------------------------------------------------------------------------------

_CATEGORY_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "coding",
        ("code", "coding", "programming", "algorithm", "data structure", "implementation", "debug"),
    ),
    ("design", ("design", "architecture", "system", "scalab", "infrastructure")),
    ("communication", ("communicat", "explain", "present", "writing", "clarity", "stakeholder")),
    ("collaboration", ("team", "collaborat", "leader", "leading", "mentor", "conflict", "people")),
    ("problem_solving", ("problem", "analytic", "reasoning", "critical", "troubleshoot", "judgement")),
    ("motivation", ("motivation", "values", "fit", "goal", "learning", "growth", "curiosity")),
    ("domain", ("knowledge", "domain", "expertise", "technical", "skill", "proficien")),
)

CODE_KEYWORDS: tuple[str, ...] = ("code", "coding", "programming", "algorithm", "data structure", "software")


def category_of(dimension: Dimension) -> str:
    """The question category for a dimension, from keywords in its name and description."""
    text = f"{dimension.name} {dimension.description}".lower()
    for category, words in _CATEGORY_KEYWORDS:
        if any(w in text for w in words):
            return category
    return "general"


# Templates: {topic} is a skill or the dimension, {dim} the dimension name, {role} the role,
# {objective} the template objective (or a neutral phrase).
_BANK: dict[str, dict[str, tuple[str, ...]]] = {
    "coding": {
        "easy": (
            "How would you write a small function in {topic} that removes duplicates from a list while "
            "keeping the order? Talk me through it.",
            "What do you check first when a piece of {topic} code you wrote gives the wrong result?",
            "Explain the difference between a list and a dictionary (or map), and when you would use each.",
        ),
        "medium": (
            "Walk me through how you would find the first non-repeating character in a string, and what "
            "its time complexity is.",
            "Tell me about a bug in {topic} code that took you a long time to find. How did you track it "
            "down?",
            "How do you decide what to cover with tests when you write a new module in {topic}?",
        ),
        "hard": (
            "How would you design an in-memory cache with least-recently-used eviction and O(1) operations? "
            "Which data structures, and what are the trade-offs?",
            "Describe how you would make a piece of {topic} code safe to call from many threads or tasks at "
            "once. What can go wrong?",
            "Tell me about the hardest performance problem you solved in {topic}: how did you measure it, "
            "and what changed the numbers?",
        ),
    },
    "design": {
        "easy": (
            "How would you explain the main parts of a web application you have worked on to a new "
            "colleague?",
            "What makes a design easy to change later? Give an example from {topic}.",
            "When you start a new feature, how do you decide how to structure it?",
        ),
        "medium": (
            "How would you design a URL shortener for {role} work? Walk me through the main components.",
            "Tell me about a design decision in {topic} you would make differently today, and why.",
            "How do you decide between a relational database and a document store for a new service?",
        ),
        "hard": (
            "Design a notification system that sends ten million messages a day with retries and no "
            "duplicates. Where are the hard parts?",
            "How would you migrate a live system to a new data model without downtime? Be specific about "
            "the steps.",
            "Tell me about a system you designed that had to scale. What broke first, and how did you "
            "find out?",
        ),
    },
    "communication": {
        "easy": (
            "How would you explain {topic} to someone with no background in it?",
            "Tell me about a time you had to write or present something important. How did you prepare?",
            "How do you make sure people understood what you told them?",
        ),
        "medium": (
            "Tell me about a time you had to explain a complicated {topic} problem to a non-specialist. "
            "What did you do to make it land?",
            "Describe a misunderstanding at work that you had to clear up. What happened, and what did you "
            "change afterwards?",
            "How do you adapt the way you communicate for different audiences in {role} work?",
        ),
        "hard": (
            "Tell me about a time you had to deliver bad news to a stakeholder. How did you frame it, and "
            "what was the outcome?",
            "Describe a time you had to persuade people who disagreed with you. What arguments worked, and "
            "which did not?",
            "How would you communicate a serious incident to both engineers and customers in the first hour?",
        ),
    },
    "collaboration": {
        "easy": (
            "What makes a team work well in your experience?",
            "Tell me about a project you worked on with others. What was your part?",
            "How do you ask for help when you are stuck?",
        ),
        "medium": (
            "Tell me about a disagreement with a colleague. How did you resolve it?",
            "Describe a time you helped a teammate grow or get unblocked. What did you do?",
            "How do you keep a shared piece of work on track when several people contribute to it?",
        ),
        "hard": (
            "Tell me about a time you led people who did not report to you toward a difficult goal. What "
            "did you do when it stalled?",
            "Describe a conflict in a team that you could not fully resolve. What did you learn from it?",
            "How have you handled a team member who was consistently missing commitments?",
        ),
    },
    "problem_solving": {
        "easy": (
            "Walk me through how you approach a problem you have never seen before.",
            "Tell me about a problem you solved recently. What steps did you take?",
            "How do you decide which of several problems to tackle first?",
        ),
        "medium": (
            "Tell me about a time you had to solve a problem in {topic} with incomplete information. How did "
            "you decide what to do?",
            "How do you check that your solution to a problem actually worked?",
            "Describe a problem where your first approach failed. What did you try next?",
        ),
        "hard": (
            "Tell me about the most ambiguous problem you have owned. How did you break it down and measure "
            "progress?",
            "Describe a time the data pointed one way and your intuition another. What did you do?",
            "How would you find the root cause of a problem that only happens occasionally in {topic}?",
        ),
    },
    "motivation": {
        "easy": (
            "What interests you about {role} work?",
            "What is something you learned recently, and how did you learn it?",
            "What kind of work gives you the most energy?",
        ),
        "medium": (
            "Why does this role fit where you want to go next? Be concrete about {objective}.",
            "Tell me about a goal you set yourself at work and how you reached it.",
            "Describe a time you had to learn {topic} quickly. What was your approach?",
        ),
        "hard": (
            "Tell me about a time your work did not go as planned and you had to keep going anyway. What "
            "kept you going?",
            "What would you want to have achieved in this role after a year, and how would you measure it?",
            "Describe feedback that was hard to hear. What did you change because of it?",
        ),
    },
    "domain": {
        "easy": (
            "What are the basics of {topic} that everyone in {role} work should know?",
            "Tell me about how you have used {topic} in your work or studies.",
            "What tools do you use for {topic}, and why those?",
        ),
        "medium": (
            "Tell me about a project where {topic} was central. What were the trade-offs you faced?",
            "What is a common mistake people make with {topic}, and how do you avoid it?",
            "How do you keep up to date with {topic}?",
        ),
        "hard": (
            "What is the most advanced thing you have done with {topic}? Walk me through the details.",
            "Where does {topic} break down, and what do you do when it does?",
            "If you had to teach {topic} to a new hire in a week, what would you cover and in what order?",
        ),
    },
    "general": {
        "easy": (
            "Tell me about your experience with {dim}.",
            "Give me an example of {dim} from your recent work.",
            "What does good {dim} look like to you?",
        ),
        "medium": (
            "Tell me about a time you demonstrated {dim}. What was the situation, what did you do, and what "
            "was the result?",
            "Describe a situation where {dim} mattered a lot. What did you do?",
            "How have you improved at {dim} over the last few years? Give an example.",
        ),
        "hard": (
            "Tell me about the hardest situation you have faced that tested your {dim}. What would you do "
            "differently now?",
            "Describe a time your {dim} was not good enough for the situation. What happened next?",
            "How would you judge {dim} in someone else, and how do you measure up?",
        ),
    },
}

_RESUME_ASKS: dict[str, str] = {
    "easy": "can you tell me what you did there?",
    "medium": "what was your own part in it, and what result are you proudest of?",
    "hard": "what was the hardest decision you made there, and what would you do differently today?",
}

_FOLLOW_UPS: dict[str, tuple[str, ...]] = {
    "example": (
        "Could you give me a concrete example — a specific situation, what you did, and what happened?",
        "Can you make that concrete with one real example from your work?",
    ),
    "numbers": (
        "How did you know it worked? Can you put a number on the result?",
        "What changed, measurably, because of what you did?",
    ),
    "ownership": (
        "What did you personally do, as opposed to the team?",
        "You said it depends — in that specific case, what did you decide and why?",
    ),
    "detail": (
        "Could you go into more detail on that?",
        "Say a bit more: what were the steps you took?",
    ),
    "redirect": (
        "Let's stay with the question. Could you answer it with an example from your own experience?",
        "I'll keep to the plan for this interview. Could you answer the question itself?",
    ),
}


def _index(key: str, n: int, seed: int) -> int:
    digest = hashlib.sha256(f"{seed}|{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % n


def _clean(text: str, limit: int = 80) -> str:
    text = re.sub(r"\s+", " ", text.replace('"', "'")).strip()
    if len(text) > limit:
        text = text[: limit - 1].rsplit(" ", 1)[0] + "…"
    return text


def _in_sentence(name: str) -> str:
    """A dimension name as it reads mid-sentence: "System Design" → "system design", but
    acronyms and product names keep their case ("SQL and data modelling", "GraphQL")."""
    return " ".join(w.lower() if w[1:] == w[1:].lower() else w for w in name.split())


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9+#]+", text.lower()) if len(w) > 2}


def _relevant_skills(config: InterviewConfig, dimension: Dimension) -> list[str]:
    skills = [*config.template.skills, *config.participant.skills]
    dim_words = _words(f"{dimension.name} {dimension.description}")
    relevant = [s for s in skills if _words(s) & dim_words]
    return relevant or list(config.template.skills) or list(config.participant.skills)


def _role(config: InterviewConfig) -> str:
    parts = [config.template.level, config.template.template_name or config.participant.title]
    role = " ".join(p for p in parts if p).strip()
    return _clean(role, 60) or "this"


def resume_hooks(config: InterviewConfig, dimension: Dimension) -> list[str]:
    """Resume excerpts relevant to a dimension (word overlap), most relevant first; safe ones only."""
    keys = _words(f"{dimension.name} {dimension.description} {' '.join(config.template.skills)}")
    scored = []
    for i, excerpt in enumerate(config.resume_excerpts):
        if not excerpt.strip() or mentions_protected(excerpt):
            continue
        overlap = len(_words(excerpt) & keys)
        if overlap:
            scored.append((-overlap, i, excerpt))
    return [e for _, _, e in sorted(scored)]


def question_for(
    config: InterviewConfig,
    dimension: Dimension,
    difficulty: str,
    index: int,
    *,
    seed: int = 0,
    avoid: Sequence[str] = (),
) -> str:
    """A role-specific question for `dimension` at `difficulty` ("easy", "medium", "hard").

    `index` is how many questions this dimension has had so far: the second question of a dimension
    with a relevant resume excerpt asks about the resume. Questions in `avoid` (already asked) are
    skipped when another is available. Never mentions a protected characteristic.
    """
    level = difficulty if difficulty in DIFFICULTIES else "medium"
    hooks = resume_hooks(config, dimension)
    if hooks and index % 2 == 1:
        excerpt = hooks[(index // 2) % len(hooks)]
        question = f'You listed "{_clean(excerpt)}" on your resume — {_RESUME_ASKS[level]}'
        if question not in avoid and not mentions_protected(question):
            return question
    skills = _relevant_skills(config, dimension)
    topic = _clean(skills[index % len(skills)], 40) if skills else _clean(dimension.name, 40)
    values = {
        "topic": topic or "your field",
        "dim": _clean(_in_sentence(dimension.name), 40) or "this area",
        "role": _role(config),
        "objective": _clean(config.template.objective, 80) or "what you want to do next",
    }
    pool = _BANK[category_of(dimension)][level]
    start = _index(f"{dimension.name}|{level}", len(pool), seed)
    candidates = [pool[(start + index + k) % len(pool)] for k in range(len(pool))]
    candidates += list(_BANK["general"][level])
    first_safe: str | None = None
    for template in candidates:
        question = template.format(**values)
        if mentions_protected(question):
            question = template.format(topic="your field", dim="this area", role="this", objective="it")
            if mentions_protected(question):
                continue
        if first_safe is None:
            first_safe = question
        if question not in avoid:
            return question
    return first_safe or SAFE_FALLBACK


def follow_up_for(reason: str, dimension: Dimension, count: int, *, seed: int = 0) -> str:
    """A follow-up prompt for a vague answer; `reason` is example|numbers|ownership|detail|redirect."""
    pool = _FOLLOW_UPS.get(reason, _FOLLOW_UPS["detail"])
    return pool[(_index(dimension.name, len(pool), seed) + count) % len(pool)]


def coding_task_for(difficulty: str) -> str:
    """The built-in coding task statement for a difficulty."""
    return coding_tasks.for_difficulty(difficulty).statement


_GREETINGS: dict[str, str] = {
    "friendly": "Hi {name}, it's great to meet you — thanks for joining!",
    "professional": "Hello {name}, thank you for joining.",
    "strict": "Hello {name}. Let's begin.",
    "challenging": "Hello {name}. I'll push on your answers today, so be as concrete as you can.",
}


def intro_text(config: InterviewConfig) -> str:
    """The opening words: a tone-specific greeting, the persona, the stage, duration and plan."""
    name = _clean(config.participant.name.split(" ")[0], 30) if config.participant.name.strip() else "there"
    greeting = _GREETINGS.get(config.interaction.tone, _GREETINGS["professional"]).format(name=name)
    stage = config.stage.stage_name or "interview"
    areas = ", ".join(d.name for d in config.dimensions)
    return (
        f"{greeting} {config.persona.strip()} This {stage} takes about {config.stage.duration_minutes} "
        f"minutes, and we will talk about {areas}."
    ).strip()


def wrap_up_text(config: InterviewConfig, *, early: bool = False) -> str:
    """The wrap-up turn: we are nearly out of time (or, `early`, the candidate said they are done);
    anything to add or ask?"""
    if early:
        return "Before we close: is there anything you would like to add, or any question for me?"
    if config.interaction.tone == "friendly":
        return (
            "We're nearly out of time — thank you, this has been great. "
            "Is there anything you'd like to add or ask me?"
        )
    return (
        "We are close to the end of our time. "
        "Is there anything you would like to add, or any question for me?"
    )


def closing_text(config: InterviewConfig, reason: str) -> str:
    """The interviewer's last words: thanks, what happens next, and why it ends if time ran out."""
    if reason == "time_limit":
        return TIME_UP_CLOSING
    thanks = (
        "Thank you so much for your time today"
        if config.interaction.tone == "friendly"
        else ("Thank you for your time today")
    )
    return f"{thanks}. That concludes the interview; the team will be in touch about next steps. Goodbye!"


TIME_UP_CLOSING = (
    "We have reached the end of our time, so I will close the interview here. "
    "Thank you for your time today; the team will be in touch about next steps."
)
