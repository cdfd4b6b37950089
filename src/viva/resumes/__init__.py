"""Resume ingestion, the pure part: text extraction under limits, chunking and lexical ranking.

Fetching (`resume_url` through an SSRF-safe client) and storing live in the participants tasks.
"""

from viva.resumes.chunks import chunk, top_chunks
from viva.resumes.extract import DEFAULT_LIMITS, ExtractionFailed, Limits, UnsupportedType, extract_text

__all__ = [
    "DEFAULT_LIMITS",
    "ExtractionFailed",
    "Limits",
    "UnsupportedType",
    "chunk",
    "extract_text",
    "top_chunks",
]
