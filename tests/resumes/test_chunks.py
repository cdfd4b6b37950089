"""Chunking on natural boundaries with overlap, and the BM25 ranker."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from viva.resumes.chunks import chunk, tokenize, top_chunks

RESUME = "\n\n".join(
    [
        "Ada Lovelace. Senior backend engineer with ten years of experience building data platforms.",
        "Acme Corp (2019-2024). Led the migration of the billing system to PostgreSQL. Designed "
        "PostgreSQL replication with streaming replicas and automatic failover across three regions. "
        "Cut query latency by 40% with better indexes.",
        "Globex (2015-2019). Built Kubernetes operators in Go. Ran the CI/CD pipeline on GitHub Actions. "
        "Mentored four junior engineers.",
        "Education: MSc Mathematics, University of London. Languages: English, French, some C++ and C#.",
    ]
)


def words(text: str) -> list[str]:
    return text.split()


def test_short_text_is_one_chunk() -> None:
    assert chunk("Just one line.") == ["Just one line."]
    assert chunk("") == []
    assert chunk("   \n\n  ") == []


def test_chunks_respect_max_size_and_split_on_sentences() -> None:
    chunks = chunk(RESUME, max_chars=200, overlap=0)
    assert len(chunks) > 2
    assert all(len(c) <= 200 for c in chunks)
    # Boundaries fall between sentences: every chunk ends a sentence (or the text).
    assert all(c.rstrip()[-1] in ".)%#" for c in chunks)


def test_without_overlap_all_text_is_kept_in_order() -> None:
    chunks = chunk(RESUME, max_chars=150, overlap=0)
    assert words(" ".join(chunks)) == words(RESUME)


def test_overlap_repeats_the_tail_of_the_previous_chunk() -> None:
    chunks = chunk(RESUME, max_chars=200, overlap=60)
    assert all(len(c) <= 200 for c in chunks)
    assert set(words(RESUME)) == set(words(" ".join(chunks)))
    for previous, current in zip(chunks, chunks[1:], strict=False):
        shared = max(n for n in range(0, 61) if n == 0 or previous.endswith(current[:n]))
        assert shared > 0, (previous, current)


def test_paragraph_breaks_survive_inside_a_chunk() -> None:
    assert chunk("First paragraph.\n\nSecond paragraph.") == ["First paragraph.\nSecond paragraph."]


def test_overlong_words_and_sentences_are_cut() -> None:
    text = "x" * 250 + " " + "word " * 100
    chunks = chunk(text, max_chars=100, overlap=20)
    assert all(len(c) <= 100 for c in chunks)
    assert "".join(chunks).count("x") == 250


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        chunk("text", max_chars=0)
    with pytest.raises(ValueError):
        chunk("text", max_chars=100, overlap=100)
    with pytest.raises(ValueError):
        chunk("text", max_chars=100, overlap=-1)


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from("ab c.\n!"), max_size=600),
    max_chars=st.integers(min_value=5, max_value=120),
    data=st.data(),
)
def test_chunk_properties(text: str, max_chars: int, data: st.DataObject) -> None:
    overlap = data.draw(st.integers(min_value=0, max_value=max_chars - 1))
    chunks = chunk(text, max_chars=max_chars, overlap=overlap)
    assert all(0 < len(c) <= max_chars for c in chunks)
    if all(len(w) <= max_chars for w in words(text)):
        assert set(words(text)) == set(words(" ".join(chunks)))
    if overlap == 0:
        assert "".join(words(" ".join(chunks))) == "".join(words(text))


def test_top_chunks_ranks_the_postgresql_chunk_first() -> None:
    chunks = chunk(RESUME, max_chars=250, overlap=40)
    best = top_chunks(chunks, "PostgreSQL")
    assert best
    assert "PostgreSQL replication" in best[0]
    assert len(best) <= 3


def test_top_chunks_is_deterministic_and_skips_unrelated_chunks() -> None:
    chunks = ["Go and Kubernetes.", "PostgreSQL replication and PostgreSQL tuning.", "Painting.", "Go."]
    assert top_chunks(chunks, "PostgreSQL databases", k=3) == [chunks[1]]
    assert top_chunks(chunks, "Go", k=5) == [chunks[3], chunks[0]]  # shorter chunk first, then order
    assert top_chunks(chunks, "Go", k=5) == top_chunks(list(chunks), "Go", k=5)
    assert top_chunks(chunks, "Haskell") == []
    assert top_chunks(chunks, "", k=2) == []
    assert top_chunks([], "Go") == []
    assert top_chunks(chunks, "Go", k=0) == []


def test_ties_keep_document_order() -> None:
    chunks = ["rust one", "rust two", "rust six"]
    assert top_chunks(chunks, "rust", k=3) == chunks


def test_tokenize_keeps_tech_names() -> None:
    assert tokenize("C++, C#, Node.js and databases.") == ["c++", "c#", "node.js", "and", "database"]
