"""Citation checks: every quote on a scorecard is a verbatim substring of the turn it cites.

A citation `{turn, quote}` is kept only when turn number `turn` (the transcript's `seq`) is a
*candidate* turn (evidence about the candidate comes from what the candidate said; a quote of the
interviewer's question proves nothing about them) and the quote occurs in that turn's text.
Matching forgives only what copying text tends to change: runs of whitespace count as one space,
and curly quotes and apostrophes equal straight ones; letters, case and punctuation must match.
Quote marks or an ellipsis wrapped around the whole quote are trimmed first. A kept citation
stores the exact substring of the turn, so it is verbatim even when the grader's copy differed
in whitespace or quote style.

A dropped citation is never silently repaired (not even when the words appear in another turn):
the dimension gets the flag `invented_quote_dropped` (not found verbatim, or no such turn) or
`non_candidate_quote_dropped` (an interviewer or system turn), and its reasoning a sentence
saying so, so a reader knows to weigh that reasoning with care.
"""

from __future__ import annotations

from collections.abc import Sequence

from viva.scoring.rubric import Citation, Judgement, TranscriptTurnIn

FLAG_INVENTED = "invented_quote_dropped"
FLAG_NOT_CANDIDATE = "non_candidate_quote_dropped"

_EQUIVALENT = {"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u201c": '"', "\u201d": '"'}
_EQUIVALENT |= {"\u201e": '"', "\u201f": '"', "\u2032": "'", "\u2033": '"'}
_WRAPPERS = "\"'\u2018\u2019\u201c\u201d\u00ab\u00bb"


def normalise(text: str) -> tuple[str, list[int]]:
    """The text with whitespace runs collapsed to one space and curly quotes made straight, and
    for each character of the result the index of the character it came from."""
    out: list[str] = []
    where: list[int] = []
    in_space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            if not in_space:
                out.append(" ")
                where.append(i)
            in_space = True
            continue
        in_space = False
        out.append(_EQUIVALENT.get(ch, ch))
        where.append(i)
    return "".join(out), where


def _clean_quote(quote: str) -> str:
    q = quote.strip()
    for _ in range(2):
        if q.startswith(("...", "\u2026")):
            q = q.lstrip(".\u2026").strip()
        if q.endswith(("...", "\u2026")):
            q = q.rstrip(".\u2026").strip()
        if len(q) >= 2 and q[0] in _WRAPPERS and q[-1] in _WRAPPERS:
            q = q[1:-1].strip()
    return q


def find_verbatim(quote: str, text: str) -> str | None:
    """The substring of `text` that `quote` reproduces (see the module docstring), or None."""
    needle, _ = normalise(_clean_quote(quote))
    needle = needle.strip()
    if not any(ch.isalnum() for ch in needle):
        return None
    hay, where = normalise(text)
    start = hay.find(needle)
    if start < 0:
        return None
    end = start + len(needle) - 1
    return text[where[start] : where[end] + 1]


def verify(
    citations: Sequence[Citation], turns: Sequence[TranscriptTurnIn]
) -> tuple[list[Citation], int, int]:
    """Check citations against the transcript. Returns (kept citations with exact quotes,
    number dropped as not verbatim or citing no turn, number dropped for citing a non-candidate
    turn). Duplicates are kept once."""
    by_seq = {t.seq: t for t in turns}
    kept: list[Citation] = []
    invented = not_candidate = 0
    for citation in citations:
        turn = by_seq.get(citation.turn)
        found = find_verbatim(citation.quote, turn.text) if turn is not None else None
        if turn is None or found is None:
            invented += 1
            continue
        if turn.speaker != "candidate":
            not_candidate += 1
            continue
        exact = Citation(turn=turn.seq, quote=found)
        if exact not in kept:
            kept.append(exact)
    return kept, invented, not_candidate


def verify_judgement(judgement: Judgement, turns: Sequence[TranscriptTurnIn]) -> Judgement:
    """A copy of `judgement` whose citations are verified, flagged and explained when any were dropped."""
    kept, invented, not_candidate = verify(judgement.citations, turns)
    flags = list(judgement.flags)
    notes: list[str] = []
    if invented:
        flags.append(FLAG_INVENTED)
        notes.append(
            f"{invented} cited quote{'s' if invented != 1 else ''} could not be found verbatim in the "
            "transcript and {verb} removed, so this reasoning should be read with care.".format(
                verb="were" if invented != 1 else "was"
            )
        )
    if not_candidate:
        flags.append(FLAG_NOT_CANDIDATE)
        notes.append(
            f"{not_candidate} cited quote{'s' if not_candidate != 1 else ''} came from the interviewer, "
            "not the candidate, and {verb} removed.".format(verb="were" if not_candidate != 1 else "was")
        )
    reasoning = " ".join([judgement.reasoning.strip(), *notes]).strip()
    return Judgement(
        name=judgement.name, score=judgement.score, reasoning=reasoning, citations=kept, flags=flags
    )


def verify_all(judgements: Sequence[Judgement], turns: Sequence[TranscriptTurnIn]) -> list[Judgement]:
    """`verify_judgement` for each judgement."""
    return [verify_judgement(j, turns) for j in judgements]
