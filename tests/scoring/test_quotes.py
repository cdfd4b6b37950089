"""Citations must be verbatim quotes of the candidate's own turns."""

from __future__ import annotations

from viva.scoring import quotes
from viva.scoring.rubric import Citation, Judgement, TranscriptTurnIn

TURNS = [
    TranscriptTurnIn(1, "interviewer", "question", "What did you build last year?", "Tech"),
    TranscriptTurnIn(
        2,
        "candidate",
        "answer",
        "I built the “ledger” service   in Go.\nIt's handling 3,000 requests per second — "
        "with p99 under 40 ms.",
    ),
    TranscriptTurnIn(3, "system", "event", "code run: 3 of 4 tests passed"),
]


def test_exact_and_whitespace_or_quote_style_variants_match() -> None:
    text = TURNS[1].text
    assert quotes.find_verbatim("3,000 requests per second", text) == "3,000 requests per second"
    # Collapsed whitespace and straight quotes still find the original characters.
    assert quotes.find_verbatim('the "ledger" service in Go.', text) == "the “ledger” service   in Go."
    assert quotes.find_verbatim("in Go. It’s handling", text) == "in Go.\nIt's handling"
    # Wrapping quote marks and ellipses are trimmed.
    assert quotes.find_verbatim('"...with p99 under 40 ms."', text) == "with p99 under 40 ms."


def test_anything_else_must_match_exactly() -> None:
    text = TURNS[1].text
    assert quotes.find_verbatim("i built the", text) is None  # case
    assert quotes.find_verbatim("3000 requests per second", text) is None  # punctuation
    assert quotes.find_verbatim("handling 3,000 requests per minute", text) is None
    assert quotes.find_verbatim("  ", text) is None and quotes.find_verbatim('"..."', text) is None


def test_verify_keeps_candidate_quotes_and_drops_the_rest() -> None:
    citations = [
        Citation(turn=2, quote="It's handling 3,000 requests per second"),
        Citation(turn=2, quote="It’s handling 3,000 requests per second"),  # duplicate once normalised
        Citation(turn=2, quote="I reduced costs by 50%"),  # invented
        Citation(turn=9, quote="I built"),  # no such turn
        Citation(turn=1, quote="What did you build"),  # the interviewer's words
        Citation(turn=3, quote="3 of 4 tests passed"),  # a system event
    ]
    kept, invented, not_candidate = quotes.verify(citations, TURNS)
    assert kept == [Citation(turn=2, quote="It's handling 3,000 requests per second")]
    assert (invented, not_candidate) == (2, 2)


def test_dropped_quotes_flag_the_dimension_and_its_reasoning() -> None:
    j = Judgement(
        "Tech",
        8.0,
        "Strong, specific answer.",
        [
            Citation(turn=2, quote="in Go"),
            Citation(turn=2, quote="I led a team of 40"),
            Citation(turn=1, quote="What"),
        ],
    )
    out = quotes.verify_judgement(j, TURNS)
    assert out.citations == [Citation(turn=2, quote="in Go")]
    assert out.flags == [quotes.FLAG_INVENTED, quotes.FLAG_NOT_CANDIDATE]
    assert out.reasoning.startswith("Strong, specific answer. 1 cited quote could not be found verbatim")
    assert "from the interviewer" in out.reasoning
    assert out.score == 8.0 and j.citations[1].quote == "I led a team of 40"  # the input is not changed


def test_clean_judgement_is_unchanged() -> None:
    j = Judgement("Tech", 7.0, "Fine.", [Citation(turn=2, quote="I built the “ledger” service")])
    (out,) = quotes.verify_all([j], TURNS)
    assert out.flags == [] and out.reasoning == "Fine." and out.citations == j.citations
