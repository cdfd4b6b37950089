"""Resume text extraction from PDF, DOCX and plain text, with hostile input contained.

The file type is decided by magic bytes first, then by the declared content type and the file name.
Plain text is decoded in-process (decoding cannot blow up). PDF and DOCX are parsed in a child
Python process that applies its own resource limits before touching the input: CPU seconds and
address space via `setrlimit`, and the parent enforces a wall-clock timeout, so a zip bomb, a
million-page PDF or a parser loop ends as `ExtractionFailed` instead of hanging or exhausting the
server. The child runs with `python -I` and an empty environment, so it sees no secrets.

Errors carry a short message fit for `resume_error`: no stack traces, no paths, no parser detail.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

MAX_INPUT_BYTES = 10 * 1024 * 1024
"""Largest file accepted at all."""
CPU_SECONDS = 20
"""CPU time the extraction child may use."""
MEMORY_BYTES = 512 * 1024 * 1024
"""Address space of the extraction child."""
WALL_SECONDS = 30.0
"""Wall-clock time the parent waits for the child before killing it."""
MAX_OUTPUT_CHARS = 200_000
"""Extracted text is cut to this many characters."""
MAX_PAGES = 50
"""Only the first pages of a PDF are read."""
MAX_DOCX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
"""A DOCX whose members inflate to more than this is refused before parsing (zip bomb)."""

Kind = Literal["pdf", "docx", "text"]


_UNSUPPORTED = "unsupported file type; upload a PDF, DOCX or plain-text resume"


class UnsupportedType(Exception):
    """The file is not a PDF, a DOCX or plain text."""

    def __init__(self, reason: str = _UNSUPPORTED) -> None:
        super().__init__(reason)
        self.reason = reason


class ExtractionFailed(Exception):
    """The file looked supported but no text could be extracted; `reason` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    """Resource limits for one extraction; the module constants are the defaults."""

    max_input_bytes: int = MAX_INPUT_BYTES
    cpu_seconds: int = CPU_SECONDS
    memory_bytes: int = MEMORY_BYTES
    wall_seconds: float = WALL_SECONDS
    max_output_chars: int = MAX_OUTPUT_CHARS
    max_pages: int = MAX_PAGES
    max_docx_uncompressed_bytes: int = MAX_DOCX_UNCOMPRESSED_BYTES


DEFAULT_LIMITS = Limits()

# --------------------------------------------------------------------------------------------------
# Type detection

_PDF_TYPES = {"application/pdf", "application/x-pdf"}
_DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_TEXT_EXTENSIONS = {".txt", ".text", ".md", ".markdown", ".rst"}
# Formats we recognise by their magic bytes and refuse (images, archives, executables, legacy .doc).
_KNOWN_BINARY_MAGIC = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\x7fELF",
    b"MZ",
    b"\xd0\xcf\x11\xe0",  # OLE2: .doc, .xls
    b"\x1f\x8b",  # gzip
    b"BZh",
    b"7z\xbc\xaf",
    b"Rar!",
    b"{\\rtf",
    b"%!PS",
    b"II*\x00",
    b"MM\x00*",
)
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def _declared(content_type: str | None, filename: str | None) -> Kind | None:
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    ext = os.path.splitext((filename or "").lower())[1]
    if ctype in _PDF_TYPES or ext == ".pdf":
        return "pdf"
    if ctype == _DOCX_TYPE or ext == ".docx":
        return "docx"
    if ctype.startswith("text/") or ext in _TEXT_EXTENSIONS:
        return "text"
    return None


def _looks_like_text(data: bytes, declared: bool) -> bool:
    """Strict sniff for undeclared data (no NUL, at most 1% control bytes); lenient (10%) if declared."""
    if any(data.startswith(bom) for bom, _ in _BOMS):
        return True
    sample = data[:8192]
    if b"\x00" in sample and not declared:
        return False
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls <= len(sample) // (10 if declared else 100)


def detect_kind(data: bytes, content_type: str | None = None, filename: str | None = None) -> Kind:
    """Decide how to read `data`: magic bytes win, then content type and extension, then a text sniff.

    Raises `UnsupportedType` for anything that is not PDF, DOCX or plain text.
    """
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        # A zip: DOCX if it says so or carries the Word main part, otherwise some other archive.
        if _declared(content_type, filename) == "docx" or b"word/" in data[:65536]:
            return "docx"
        raise UnsupportedType()
    if any(data.startswith(magic) for magic in _KNOWN_BINARY_MAGIC):
        raise UnsupportedType()
    declared = _declared(content_type, filename)
    if declared in ("pdf", "docx"):
        return declared  # no magic: the parser decides, and will most likely fail cleanly
    if _looks_like_text(data, declared == "text"):
        return "text"
    raise UnsupportedType()


# --------------------------------------------------------------------------------------------------
# Text handling

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufeff\ufffe\uffff\u200b\u00ad]")
_LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalize(text: str, max_chars: int = MAX_OUTPUT_CHARS) -> str:
    """NFC-normalise, unify line breaks, drop NUL/control characters and collapse whitespace.

    Paragraph breaks survive as a single blank line; the result is cut to `max_chars`.
    """
    text = unicodedata.normalize("NFC", text)
    text = _LINE_BREAKS.sub("\n", text)
    text = _CONTROL.sub("", text)
    text = "".join(ch for ch in text if not ("\ud800" <= ch <= "\udfff"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    return text[:max_chars].rstrip()


def decode_text(data: bytes) -> str:
    """Decode plain text: honour a BOM, else UTF-8, else Windows-1252, else Latin-1 (never fails)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# --------------------------------------------------------------------------------------------------
# Public entry point


def extract_text(
    data: bytes,
    content_type: str | None,
    filename: str | None,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> str:
    """Return the normalised text of a resume file.

    Blocking (it waits for the extraction child); call it from a worker thread in async code.
    Raises `UnsupportedType` or `ExtractionFailed`, both with a message safe for `resume_error`.
    """
    if len(data) > limits.max_input_bytes:
        raise ExtractionFailed(f"the file is larger than {limits.max_input_bytes // (1024 * 1024)} MB")
    if not data:
        raise ExtractionFailed("the file is empty")
    kind = detect_kind(data, content_type, filename)
    raw = decode_text(data) if kind == "text" else _run_isolated(kind, data, limits)
    text = normalize(raw, limits.max_output_chars)
    if not text:
        if kind == "text":
            raise ExtractionFailed("the file contains no text")
        raise ExtractionFailed("no text found in the document; scanned images are not supported")
    return text


# --------------------------------------------------------------------------------------------------
# Parent side of the child protocol: argv[1] is the kind, stdin the file, stdout one JSON object.

_CHILD_CODE = "import sys; from viva.resumes.extract import _child_main; sys.exit(_child_main(sys.argv[1:]))"
_SIGXCPU = 24


def _run_isolated(kind: str, data: bytes, limits: Limits) -> str:
    """Run the extractor for `kind` in a limited child process and return its raw text."""
    args = [
        sys.executable,
        "-I",
        "-c",
        _CHILD_CODE,
        kind,
        str(limits.cpu_seconds),
        str(limits.memory_bytes),
        str(limits.max_output_chars),
        str(limits.max_pages),
        str(limits.max_docx_uncompressed_bytes),
    ]
    env = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    try:
        proc = subprocess.run(
            args,
            input=data,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            timeout=limits.wall_seconds,
            env=env,
            close_fds=True,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ExtractionFailed("the document took too long to process") from None
    except OSError:
        raise ExtractionFailed("the document could not be processed") from None
    if proc.returncode in (-_SIGXCPU, 128 + _SIGXCPU):
        raise ExtractionFailed("the document took too long to process")
    try:
        result = json.loads(proc.stdout.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        raise ExtractionFailed("the document could not be processed within the resource limits") from None
    if not isinstance(result, dict):
        raise ExtractionFailed("the document could not be processed")
    if result.get("ok") is True and isinstance(result.get("text"), str):
        return str(result["text"])[: limits.max_output_chars]
    reason = result.get("reason")
    raise ExtractionFailed(reason if isinstance(reason, str) else "the document could not be processed")


# --------------------------------------------------------------------------------------------------
# Child side. Everything below runs inside the limited process.


class _Refused(Exception):
    """Raised in the child with a safe reason."""


def _apply_limits(cpu_seconds: int, memory_bytes: int) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX; the wall-clock timeout still applies
        return
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    except (ValueError, OSError):  # pragma: no cover - some systems refuse lowering it
        pass


def _extract_pdf(data: bytes, max_chars: int, max_pages: int) -> str:
    import logging

    logging.disable(logging.CRITICAL)
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception:
                raise _Refused("the PDF is password-protected") from None
        parts: list[str] = []
        total = 0
        for index, page in enumerate(reader.pages):
            if index >= max_pages or total >= max_chars:
                break
            page_text = page.extract_text() or ""
            parts.append(page_text)
            total += len(page_text)
    except FileNotDecryptedError:
        raise _Refused("the PDF is password-protected") from None
    except PdfReadError:
        raise _Refused("the PDF is damaged or not a valid PDF") from None
    return "\n\n".join(parts)


def _extract_docx(data: bytes, max_chars: int, max_uncompressed: int) -> str:
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > max_uncompressed:
                raise _Refused("the document expands to an unreasonable size")
            if "word/document.xml" not in archive.namelist():
                raise _Refused("the file is not a valid DOCX document")
    except zipfile.BadZipFile:
        raise _Refused("the file is not a valid DOCX document") from None

    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(data))
    parts: list[str] = []
    total = 0
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            texts = [block.text]
        elif isinstance(block, Table):
            texts = [" ".join(cell.text for cell in row.cells) for row in block.rows]
        else:  # pragma: no cover - iter_inner_content yields only these two
            texts = []
        for text in texts:
            parts.append(text)
            total += len(text)
        if total >= max_chars:
            break
    return "\n".join(parts)


def _test_hook(kind: str, data: bytes) -> str:
    """Misbehaving extractors used only by the tests to prove the limits hold."""
    if kind == "_test_spin":
        while True:
            pass
    if kind == "_test_sleep":
        import time

        time.sleep(3600)
    if kind == "_test_hog":
        hog: list[bytes] = []
        while True:
            hog.append(b"\x01" * (16 * 1024 * 1024))
    raise _Refused("unsupported file type")


def _child_main(argv: list[str]) -> int:
    """Entry point of the extraction child: apply limits, read stdin, print one JSON object."""
    kind = argv[0]
    cpu_seconds, memory_bytes, max_chars, max_pages, max_uncompressed = (int(a) for a in argv[1:6])
    _apply_limits(cpu_seconds, memory_bytes)
    result: dict[str, Any]
    try:
        data = sys.stdin.buffer.read()
        if kind == "pdf":
            text = _extract_pdf(data, max_chars, max_pages)
        elif kind == "docx":
            text = _extract_docx(data, max_chars, max_uncompressed)
        else:
            text = _test_hook(kind, data)
        result = {"ok": True, "text": text[:max_chars]}
    except _Refused as exc:
        result = {"ok": False, "reason": str(exc)}
    except MemoryError:
        result = {"ok": False, "reason": "the document needs too much memory to process"}
    except RecursionError:
        result = {"ok": False, "reason": "the document is too deeply nested to process"}
    except Exception:
        damaged = "the PDF is damaged or not a valid PDF"
        result = {"ok": False, "reason": damaged if kind == "pdf" else "the document could not be read"}
    sys.stdout.write(json.dumps(result))  # ASCII escapes: lone surrogates from a parser cannot break it
    sys.stdout.flush()
    return 0


if __name__ == "__main__":  # pragma: no cover - `python -m viva.resumes.extract KIND ...` also works
    sys.exit(_child_main(sys.argv[1:]))
