"""Resume text extraction: real PDF/DOCX files, odd encodings, hostile input and the child limits."""

from __future__ import annotations

import io
import time
import zipfile

import docx
import pytest

from viva.resumes import extract as ex
from viva.resumes.extract import ExtractionFailed, Limits, UnsupportedType, detect_kind, extract_text


def make_pdf(pages: list[str]) -> bytes:
    """A minimal, valid PDF with one line of Helvetica text per page, offsets computed properly."""
    n = len(pages)
    font_id = 3 + 2 * n
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(f"{3 + i} 0 R".encode() for i in range(n))
        + b"] /Count "
        + str(n).encode()
        + b" >>",
    ]
    for i in range(n):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {3 + n + i} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
    for text in pages:
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
        objects.append(
            b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream"
        )
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def make_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Ada Lovelace", level=1)
    document.add_paragraph("Senior engineer. Built PostgreSQL replication tooling at Analytical Engines Ltd.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Skills"
    table.rows[0].cells[1].text = "Kubernetes Terraform"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_pdf_text_is_extracted() -> None:
    data = make_pdf(["Ada Lovelace resume", "Experience with PostgreSQL replication"])
    text = extract_text(data, "application/pdf", "cv.pdf")
    assert "Ada Lovelace resume" in text
    assert "PostgreSQL replication" in text


def test_pdf_is_recognised_by_magic_despite_a_wrong_type_and_name() -> None:
    data = make_pdf(["Magic wins"])
    assert detect_kind(data, "text/plain", "notes.txt") == "pdf"
    assert "Magic wins" in extract_text(data, "application/octet-stream", None)


def test_only_the_first_pages_are_read() -> None:
    data = make_pdf([f"pagemarker{i}" for i in range(8)])
    text = extract_text(data, None, None, limits=Limits(max_pages=3))
    assert "pagemarker2" in text
    assert "pagemarker3" not in text


def test_output_is_capped() -> None:
    data = make_pdf(["word " * 60] * 5)
    text = extract_text(data, None, None, limits=Limits(max_output_chars=100))
    assert 0 < len(text) <= 100


def test_docx_paragraphs_and_tables_are_extracted() -> None:
    text = extract_text(make_docx(), None, "cv.docx")
    assert "Ada Lovelace" in text
    assert "PostgreSQL replication tooling" in text
    assert "Kubernetes Terraform" in text


def test_docx_is_recognised_without_type_or_name() -> None:
    assert detect_kind(make_docx(), None, None) == "docx"


def test_docx_zip_bomb_is_refused_before_parsing() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b" " * (5 * 1024 * 1024))
    with pytest.raises(ExtractionFailed) as info:
        extract_text(
            buffer.getvalue(), None, "cv.docx", limits=Limits(max_docx_uncompressed_bytes=1024 * 1024)
        )
    assert info.value.reason == "the document expands to an unreasonable size"


def test_other_zip_archives_are_unsupported() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.jpg", b"\xff\xd8\xff")
    with pytest.raises(UnsupportedType):
        extract_text(buffer.getvalue(), "application/zip", "stuff.zip")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("\ufeffJosé Müller — Café engineer".encode(), "José Müller — Café engineer"),
        ("José Müller, Café".encode("latin-1"), "José Müller, Café"),
        ("Smart “quotes” – dash".encode("cp1252"), "Smart “quotes” – dash"),
        ("UTF-16 résumé".encode("utf-16"), "UTF-16 résumé"),
        ("plain utf-8 ✓".encode(), "plain utf-8 ✓"),
    ],
)
def test_plain_text_in_odd_encodings(data: bytes, expected: str) -> None:
    assert extract_text(data, None, None) == expected


def test_whitespace_is_normalised_and_controls_dropped() -> None:
    raw = b"  Name:\tAda \x00Lovelace\x07 \r\n\r\n\r\n\r\nSkills:   SQL\x0cGo\r\n"
    assert extract_text(raw, "text/plain", "cv.txt") == "Name: Ada Lovelace\n\nSkills: SQL\nGo"


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,
        b"\x7fELF\x02\x01\x01" + b"\x00" * 100,
        bytes(range(256)) * 4,
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
    ],
)
def test_unknown_binary_is_unsupported(data: bytes) -> None:
    with pytest.raises(UnsupportedType):
        extract_text(data, "application/octet-stream", "cv.bin")


@pytest.mark.parametrize(
    "data",
    [
        make_pdf(["truncated resume text"])[:60],
        b"%PDF-1.7\n" + bytes(range(256)) * 20,
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
    ],
)
def test_garbage_pdf_fails_with_a_safe_message(data: bytes) -> None:
    with pytest.raises(ExtractionFailed) as info:
        extract_text(data, "application/pdf", "/home/secret/cv.pdf")
    message = info.value.reason
    assert message and len(message) < 100
    assert "Traceback" not in message and "/" not in message and "secret" not in message


def test_declared_pdf_without_magic_fails_cleanly() -> None:
    with pytest.raises(ExtractionFailed):
        extract_text(b"this is not a pdf at all", "application/pdf", "cv.pdf")


def test_empty_and_oversized_inputs() -> None:
    with pytest.raises(ExtractionFailed, match="empty"):
        extract_text(b"", None, None)
    with pytest.raises(ExtractionFailed, match="larger than 1 MB"):
        extract_text(b"a" * (1024 * 1024 + 1), None, None, limits=Limits(max_input_bytes=1024 * 1024))


def test_pdf_without_text_says_so() -> None:
    with pytest.raises(ExtractionFailed, match="no text found"):
        extract_text(make_pdf([""]), None, None)


# Each test makes one limit tight and leaves the others wide, so a slow start (a cold
# interpreter on a loaded machine) can never make a different limit fire first; finishing
# well inside the wide wall clock shows the tight limit is what stopped the child.
WIDE_WALL = 120.0


def test_cpu_limit_kills_a_spinning_child() -> None:
    limits = Limits(cpu_seconds=1, wall_seconds=WIDE_WALL)
    started = time.monotonic()
    with pytest.raises(ExtractionFailed, match="too long"):
        ex._run_isolated("_test_spin", b"", limits)
    assert time.monotonic() - started < WIDE_WALL / 2


def test_wall_clock_limit_kills_a_sleeping_child() -> None:
    # Sleeping uses no CPU and no memory: only the wall clock can stop it.
    limits = Limits(wall_seconds=1.5)
    started = time.monotonic()
    with pytest.raises(ExtractionFailed, match="too long"):
        ex._run_isolated("_test_sleep", b"", limits)
    assert time.monotonic() - started < WIDE_WALL / 2


def test_memory_limit_stops_a_hungry_child() -> None:
    limits = Limits(cpu_seconds=60, memory_bytes=256 * 1024 * 1024, wall_seconds=WIDE_WALL)
    started = time.monotonic()
    with pytest.raises(ExtractionFailed, match="too much memory"):
        ex._run_isolated("_test_hog", b"", limits)
    assert time.monotonic() - started < WIDE_WALL / 2


def test_child_sees_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIVA_LLM_API_KEY", "sk-very-secret")
    code = "import json, os, sys; sys.stdout.write(json.dumps({'ok': True, 'text': ' '.join(os.environ)}))"
    monkeypatch.setattr(ex, "_CHILD_CODE", code)
    names = ex._run_isolated("pdf", b"", Limits()).split()
    assert "VIVA_LLM_API_KEY" not in names
    assert set(names) <= {"LANG", "LC_ALL", "LC_CTYPE"}
