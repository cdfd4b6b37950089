"""What the candidate did on their turn, before the interviewer decides (issue 16, built-in engine).

`understand(text, question=..., language=...)` labels one candidate turn: an answer, a request to
repeat or clarify, a question to the interviewer, "I don't know", a request to skip, "I'm done",
an off-topic remark, an answer in another language than the interview's, an attempt to instruct
the interviewer, or nothing at all. It is pure (no I/O, no clock) and rules-based, so it runs
offline and the same text always gets the same label.

The rules are conservative: a non-answer label needs a short turn that clearly says so; anything
else is an `answer`, because treating a real answer as "skip" would throw the candidate's words
away, while treating a "skip" as an answer only costs one follow-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

Label = Literal[
    "answer",
    "clarify_or_repeat",
    "question_to_interviewer",
    "dont_know",
    "skip",
    "done",
    "off_topic",
    "wrong_language",
    "instruction_to_interviewer",
    "empty",
]
LABELS: tuple[Label, ...] = get_args(Label)
ABOUT_CHARS = 160
SHORT_WORDS = 12  # "I don't know", "skip", "I'm done" and the like are short; longer turns are answers
REQUEST_WORDS = 25  # a request to repeat or a question to the interviewer is at most this long
LANGUAGE_MIN_WORDS = 6  # below this the stop-word test cannot tell languages apart

INJECTION = re.compile(
    r"ignore\s+(?:all\s+|any\s+|your\s+|the\s+|previous\s+|prior\s+|above\s+)*(?:instructions|prompts?|rules)"
    r"|disregard\s+(?:all\s+|your\s+|the\s+|previous\s+)*(?:instructions|rules)"
    r"|system\s+prompt|you\s+are\s+now|new\s+instructions|developer\s+mode|jailbreak"
    r"|end\s+(?:the|this)\s+interview|\b10\s*/\s*10\b|(?:perfect|full|top|maximum)\s+(?:score|marks)"
    r"|give\s+me\s+(?:a\s+)?(?:pass|hire)",
    re.IGNORECASE,
)

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "de": "German",
    "es": "Spanish",
    "fr": "French",
    "pt": "Portuguese",
    "it": "Italian",
    "nl": "Dutch",
}

# Frequent function words that (mostly) belong to one language; words shared between the languages
# ("a", "de", "en", "la", "no") are left out so a hit means something.
_STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "the and of to is that it with for was this have are be on at by not but you we they i my "
        "our what which when would there their from has had been an or so if do does did".split()
    ),
    "de": frozenset(
        "der die das und ist nicht ich wir sie es mit auf für ein eine einen dem den zu von bei "
        "auch wie aber oder dass war haben habe hat sind wird werden kann können mein unser "
        "noch nur sehr über".split()
    ),
    "es": frozenset(
        "el los las y es que del por para con una un lo se su sus pero como más fue ha hemos "
        "tenemos muy también yo nosotros esto esta este cuando porque pero mi eso hay nunca está "
        "puede favor sé he".split()
    ),
    "fr": frozenset(
        "le les et est que des du pour dans une un ce cette qui pas avec sur nous je il elle "
        "mais ou avons avait être été très aussi quand parce".split()
    ),
    "pt": frozenset(
        "o os as e é que do da dos das para com uma um não se seu sua mas como mais foi nós eu "
        "isso esta este quando porque também muito temos".split()
    ),
    "it": frozenset(
        "il lo gli e è che del della per con una un non si suo sua ma come più è stato noi io "
        "questo questa quando perché anche molto abbiamo".split()
    ),
    "nl": frozenset(
        "het een dat niet ik wij zij met op voor van bij ook maar hebben heb "
        "heeft zijn wordt kan kunnen mijn ons nog alleen erg over".split()
    ),
}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


@dataclass(frozen=True)
class Understanding:
    """One candidate turn, understood: its `label`, what it was `about` (a short text: the question
    the candidate asked, the language they wrote in, or the interviewer's question they answered),
    and for answers their length in words."""

    label: Label
    about: str = ""
    words: int = 0

    def to_data(self) -> dict[str, Any]:
        """What is stored on the candidate turn (`TranscriptTurn.data["understanding"]`)."""
        return {"label": self.label, "about": self.about}

    @classmethod
    def from_data(cls, data: Any) -> Understanding | None:
        """The stored understanding, or None when there is none (or it is not one we know)."""
        if not isinstance(data, dict) or data.get("label") not in LABELS:
            return None
        return cls(label=data["label"], about=str(data.get("about") or "")[:ABOUT_CHARS])


def _clip(text: str, limit: int = ABOUT_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _norm(text: str) -> str:
    # Curly apostrophes (phones, voice transcripts) read as straight ones.
    return " ".join(text.lower().replace("\u2019", "'").replace("\u2018", "'").split())


def language_code(tag: str) -> str:
    """The primary subtag of a BCP 47 tag ("de-CH" → "de"); "en" when empty."""
    return (tag or "en").split("-")[0].split("_")[0].strip().lower() or "en"


def language_name(tag: str) -> str:
    """A language's English name for the candidate ("de" → "German"), else the tag itself."""
    return LANGUAGE_NAMES.get(language_code(tag), tag)


def detect_language(text: str) -> str | None:
    """The language `text` is most likely in, by counting stop words; None when it is too short or
    the counts do not clearly point at one language."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < LANGUAGE_MIN_WORDS:
        return None
    hits = {code: sum(1 for w in words if w in stop) for code, stop in _STOP_WORDS.items()}
    ranked = sorted(hits.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < 3 or top < 2 * second:
        return None
    return best


_DONT_KNOW = re.compile(
    r"\b(?:i\s+(?:really\s+|honestly\s+|just\s+)?(?:don'?t|do\s+not)\s+know|no\s+idea|not\s+sure|"
    r"i'?m\s+not\s+sure|i\s+am\s+not\s+sure|i\s+(?:can'?t|cannot)\s+(?:answer|say|remember)|"
    r"i\s+have\s+no\s+(?:idea|clue|experience)|no\s+clue|i\s+(?:haven'?t|have\s+not|never)\s+"
    r"(?:done|worked|used|had)|i\s+have\s+never\s+(?:done|worked|used|had)|i\s+don'?t\s+have\s+(?:an?\s+)?(?:answer|example|experience))\b"
)
# Words that turn "I don't know" into the start of an attempt ("I don't know, but I'd guess ...").
_ATTEMPT = re.compile(r"\b(?:but|though|however|guess|would|i'?d|maybe|probably|because|so\s+i)\b")
_SKIP = re.compile(
    r"^(?:(?:can|could|may|shall)\s+(?:we|i)\s+(?:please\s+|just\s+)?|let'?s\s+(?:just\s+)?|let\s+us\s+|"
    r"i'?d\s+(?:like|prefer|rather)\s+(?:to\s+)?|i\s+(?:would\s+)?(?:like|want|prefer)\s+to\s+|"
    r"please\s+|(?:ok(?:ay)?|sorry|hmm+|um+),?\s+)*"
    r"(?:skip|pass(?:\s+on)?|move\s+on|go\s+to\s+the\s+next|do\s+(?:a\s+)?(?:different|another))\b"
    r"|\bnext\s+question\b|\bi'?d\s+rather\s+not\s+(?:answer|say|talk|discuss)|\brather\s+skip\b"
)
_DONE = re.compile(
    r"\b(?:i'?m|i\s+am|we'?re|we\s+are)\s+(?:all\s+|pretty\s+much\s+)?(?:done|finished)\b(?!\s+(?:with|by|in|on))"
    r"|\bthat'?s\s+(?:all|it)\s+(?:for|from)\s+me\b"
    r"|\bi'?d\s+like\s+to\s+(?:stop|finish|end)\b|\bi\s+want\s+to\s+(?:stop|finish|end)\b"
    r"|\bi\s+have\s+to\s+(?:go|leave)\b|\b(?:can|could)\s+we\s+(?:stop|finish|wrap\s+up)\b"
    r"|\blet'?s\s+(?:stop|finish|wrap\s+up)\b"
)
_CLARIFY = re.compile(
    r"\b(?:could|can|would|will)\s+you\s+(?:please\s+)?(?:repeat|rephrase|restate|reword)\b"
    r"|^(?:sorry,?\s+|please\s+)*(?:repeat|rephrase|restate|reword)\b"
    r"|\b(?:repeat|rephrase|restate|reword)\s+(?:the|your|that|this)\s+question\b"
    r"|\b(?:repeat|rephrase)\s+(?:that|it)(?:\s+please)?\s*[?.!]*$"
    r"|\bsay\s+(?:that|it)\s+again\b|\bcome\s+again\b|\bnot\s+sure\s+i\s+(?:follow|understand)\b"
    r"|\bwhat\s+(?:do|did)\s+you\s+mean\b|\bdo\s+you\s+mean\b|\bwhat\s+was\s+the\s+question\b"
    r"|\bwhat\s+is\s+the\s+question\b|\bwhat\s+are\s+you\s+asking\b"
    r"|\bi\s+(?:don'?t|didn'?t|do\s+not|did\s+not)\s+(?:understand|get|catch|follow)\s*"
    r"(?:(?:the|your)\s+question|that|what\s+you\s+(?:mean|asked|said|are\s+asking)|you|it|this)?"
    r"[\s?.!,]*(?:sorry)?[?.!]*$"
    r"|\b(?:could|can|would)\s+you\s+(?:please\s+)?(?:clarify|explain\s+(?:the|your|that|what)|elaborate)\b"
    r"|\bclarify\s+(?:the|your|that)\b|^(?:sorry|pardon|excuse\s+me|what|huh)\s*\?*[.!]*$"
)
# A question is for the interviewer when it asks about them, the team, the role or the process.
_TO_INTERVIEWER = re.compile(
    r"\b(?:you|your|yours|team|teams|company|organi[sz]ation|role|position|job|day\s+to\s+day|"
    r"culture|salary|pay|benefits|perks|remote|office|hybrid|process|next\s+steps?|manager|"
    r"stack|product|customers?|here|onboarding|growth|career|hiring|interview)\b"
)
_OFF_TOPIC = re.compile(
    r"\b(?:weather|football|soccer|movie|film|netflix|lunch|dinner|weekend|holiday|vacation|"
    r"joke|funny|sports?|game\s+last\s+night|my\s+cat|my\s+dog|birthday)\b"
)
_CONTENT_STOP = _STOP_WORDS["en"] | frozenset(
    "a about actually all also am any can could how me more much please some tell than them then "
    "these those us very was were what where who whom whose why will your yours is it's i'm".split()
)


def content_words(text: str) -> set[str]:
    """The words of `text` that carry meaning (lower-cased, English stop words and short words dropped,
    a plural "s" stripped), for overlap between a question and a sentence."""
    out = set()
    for w in _WORD.findall(text.lower()):
        if len(w) < 3 or w in _CONTENT_STOP:
            continue
        out.add(w[:-1] if len(w) > 4 and w.endswith("s") and not w.endswith("ss") else w)
    return out


def _last_sentence(text: str) -> str:
    parts = [p for p in re.split(r"(?<=[.!?])\s+", text.strip()) if p.strip()]
    return parts[-1] if parts else ""


def understand(text: str, *, question: str = "", language: str = "en") -> Understanding:
    """Label one candidate turn. `question` is what the interviewer last said; `language` the
    interview's BCP 47 tag. Never raises; when unsure, the turn is an `answer`."""
    raw = text if isinstance(text, str) else ""
    norm = _norm(raw)
    words = len(re.findall(r"\w+", raw))
    asked = _clip(question)
    if words == 0:
        return Understanding("empty", asked)
    if INJECTION.search(raw):
        return Understanding("instruction_to_interviewer", _clip(raw), words)
    expected = language_code(language)
    if expected in _STOP_WORDS:
        found = detect_language(raw)
        if found is not None and found != expected:
            return Understanding("wrong_language", language_name(found), words)
    has_digits = re.search(r"\d", raw) is not None
    short = words <= SHORT_WORDS and not has_digits
    if short and _DONE.search(norm):
        return Understanding("done", asked, words)
    if short and _SKIP.search(norm):
        return Understanding("skip", asked, words)
    if words <= REQUEST_WORDS and _CLARIFY.search(norm):
        return Understanding("clarify_or_repeat", asked, words)
    if short and _DONT_KNOW.search(norm) and not _ATTEMPT.search(norm):
        return Understanding("dont_know", asked, words)
    if (
        words <= REQUEST_WORDS
        and _OFF_TOPIC.search(norm)
        and not (content_words(raw) & content_words(question))
    ):
        return Understanding("off_topic", _clip(raw), words)
    last = _last_sentence(raw)
    if words <= REQUEST_WORDS * 2 and last.endswith("?") and _TO_INTERVIEWER.search(_norm(last)):
        return Understanding("question_to_interviewer", _clip(last), words)
    return Understanding("answer", asked, words)
