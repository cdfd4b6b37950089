"""Resume ingestion, the domain-free part: text extraction under limits, chunking, lexical ranking,
and offline embeddings of passages (embed.py; the model loads on first use, not on import).

Fetching (`resume_url` through an SSRF-safe client) and storing live in the participants tasks.
"""

from viva.resumes.chunks import chunk, hybrid_top_chunks, top_chunks
from viva.resumes.extract import DEFAULT_LIMITS, ExtractionFailed, Limits, UnsupportedType, extract_text

__all__ = [
    "DEFAULT_LIMITS",
    "ExtractionFailed",
    "Limits",
    "UnsupportedType",
    "chunk",
    "extract_text",
    "hybrid_top_chunks",
    "top_chunks",
]
