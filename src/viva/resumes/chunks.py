"""Split resume text into overlapping chunks and pick the ones relevant to a skill.

Pure functions, no I/O and no model: `chunk` packs paragraphs and sentences into pieces of at most
`max_chars`, each starting with a short tail of the previous one; `top_chunks` ranks chunks against a
query with Okapi BM25 over word tokens, deterministically (ties keep document order);
`hybrid_top_chunks` fuses that ranking with semantic similarities computed elsewhere (see embed.py).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

_PARAGRAPHS = re.compile(r"\n[^\S\n]*\n\s*")
_SENTENCES = re.compile(r"(?<=[.!?;])\s+|\n+")
_WS = re.compile(r"\s+")
# Words, keeping tech names whole: "c++", "c#", "node.js", "ci/cd" -> "ci", "cd".
_TOKEN = re.compile(r"\w[\w+#]*(?:\.\w+)*")

BM25_K1 = 1.5
BM25_B = 0.75
RRF_K = 60
"""Reciprocal rank fusion constant (Cormack et al. 2009): damps the weight of the very first ranks."""


def _pieces(sentence: str, max_chars: int) -> list[str]:
    """Cut a sentence longer than `max_chars` at word boundaries (hard-cut words that are longer)."""
    out: list[str] = []
    current = ""
    for word in sentence.split(" "):
        while len(word) > max_chars:
            if current:
                out.append(current)
                current = ""
            out.append(word[:max_chars])
            word = word[max_chars:]
        if not word:
            continue
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= max_chars:
            current += " " + word
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    return out


def _units(text: str, max_chars: int) -> list[tuple[str, bool]]:
    """Sentences (or sentence pieces) no longer than `max_chars`, flagged when they open a paragraph."""
    units: list[tuple[str, bool]] = []
    for paragraph in _PARAGRAPHS.split(text.strip()):
        first = True
        for raw in _SENTENCES.split(paragraph):
            sentence = _WS.sub(" ", raw).strip()
            if not sentence:
                continue
            for piece in _pieces(sentence, max_chars):
                units.append((piece, first))
                first = False
    return units


def _tail(text: str, limit: int) -> str:
    """The last at most `limit` characters of `text`, starting at a word boundary."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    window = text[-limit:]
    if not text[-limit - 1].isspace():
        cut = re.search(r"\s", window)
        if cut is None:
            return ""
        window = window[cut.end() :]
    return window.strip()


def chunk(text: str, max_chars: int = 800, overlap: int = 100) -> list[str]:
    """Split `text` into chunks of at most `max_chars`, on paragraph and sentence boundaries where possible.

    Each chunk after the first starts with up to `overlap` characters (whole words) from the end of the
    previous one, so a fact straddling a boundary is still seen whole. Every word of `text` is in some
    chunk; whitespace inside a paragraph is collapsed, paragraph breaks become newlines.
    """
    if max_chars <= 0:
        raise ValueError("max_chars must be positive")
    if not 0 <= overlap < max_chars:
        raise ValueError("overlap must be at least 0 and smaller than max_chars")
    chunks: list[str] = []
    current = ""
    for unit, new_paragraph in _units(text, max_chars):
        sep = "\n" if new_paragraph else " "
        if not current:
            current = unit
        elif len(current) + len(sep) + len(unit) <= max_chars:
            current += sep + unit
        else:
            chunks.append(current)
            tail = _tail(current, min(overlap, max_chars - len(unit) - 1))
            current = f"{tail}{sep}{unit}" if tail else unit
    if current:
        chunks.append(current)
    return chunks


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens with a light plural fold ("databases" and "database" match)."""
    tokens = []
    for token in _TOKEN.findall(text.lower()):
        if len(token) > 3 and token.isalpha() and token.endswith("s") and not token.endswith("ss"):
            token = token[:-1]
        tokens.append(token)
    return tokens


def bm25_scores(chunks: Sequence[str], query: str) -> list[float]:
    """Okapi BM25 score of every chunk for `query` (k1=1.5, b=0.75, non-negative IDF)."""
    docs = [Counter(tokenize(c)) for c in chunks]
    terms = set(tokenize(query))
    if not docs or not terms:
        return [0.0] * len(docs)
    lengths = [sum(d.values()) for d in docs]
    avg = (sum(lengths) / len(docs)) or 1.0
    n = len(docs)
    idf = {t: math.log(1 + (n - (df := sum(1 for d in docs if t in d)) + 0.5) / (df + 0.5)) for t in terms}
    scores = []
    for doc, length in zip(docs, lengths, strict=True):
        score = 0.0
        for term in sorted(terms):
            tf = doc.get(term, 0)
            if tf:
                norm = BM25_K1 * (1 - BM25_B + BM25_B * length / avg)
                score += idf[term] * tf * (BM25_K1 + 1) / (tf + norm)
        scores.append(score)
    return scores


def top_chunks(chunks: Sequence[str], query: str, k: int = 3) -> list[str]:
    """The at most `k` chunks most relevant to `query`, best first; chunks sharing no word are left out.

    Deterministic: equal scores keep the chunks' original order. An empty result means the resume says
    nothing about the query; callers decide whether to fall back to the first chunks.
    """
    if k <= 0:
        return []
    scores = bm25_scores(chunks, query)
    ranked = sorted((i for i, s in enumerate(scores) if s > 0), key=lambda i: (-scores[i], i))
    return [chunks[i] for i in ranked[:k]]


def _ranks(scores: Sequence[float | None]) -> list[int]:
    """1-based rank of each score, highest first; equal scores share the best of their ranks, and a
    missing score (None) ranks after every present one."""
    present = sorted((s for s in scores if s is not None), reverse=True)
    first: dict[float, int] = {}
    for rank, score in enumerate(present, start=1):
        first.setdefault(score, rank)
    return [first[s] if s is not None else len(present) + 1 for s in scores]


def hybrid_ranking(chunks: Sequence[str], query: str, similarities: Sequence[float | None]) -> list[int]:
    """Every chunk index, best first, by reciprocal rank fusion of BM25 and `similarities`.

    `similarities[i]` is chunk i's semantic similarity to the query, None when unknown. Each chunk's
    score is 1/(RRF_K + BM25 rank) + 1/(RRF_K + semantic rank); chunks sharing no word with the query
    tie for the last BM25 rank, chunks without a similarity for the last semantic rank, so a chunk that
    is about the query in other words still rises on meaning alone. Ties go to the chunk closer in
    meaning (BM25 leaves many chunks tied at zero; similarities rarely tie), then to document order.
    With no similarities at all this is the BM25 order, then the non-matching chunks in document order.
    """
    if len(similarities) != len(chunks):
        raise ValueError("one similarity (or None) per chunk")
    lexical = _ranks([s if s > 0 else None for s in bm25_scores(chunks, query)])
    semantic = _ranks(similarities)
    fused = [1 / (RRF_K + a) + 1 / (RRF_K + b) for a, b in zip(lexical, semantic, strict=True)]
    return sorted(range(len(chunks)), key=lambda i: (-fused[i], semantic[i], i))


def hybrid_top_chunks(
    chunks: Sequence[str], query: str, similarities: Sequence[float | None], k: int = 3
) -> list[str]:
    """The `k` best chunks by `hybrid_ranking` (all chunks when there are fewer), best first."""
    if k <= 0:
        return []
    return [chunks[i] for i in hybrid_ranking(chunks, query, similarities)[:k]]
