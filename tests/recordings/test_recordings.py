"""Recordings of voice interviews: the room uploads MediaRecorder parts, the end of the interview
assembles them into one Ogg Opus file, the API hands out a signed link valid one hour, and the
audio goes with the participant's erasure and with the retention setting."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import make_settings
from tests.fixtures.audio import espeak_wav, pieces, seconds_of, transcode
from tests.fixtures.clock import FrozenClock
from tests.fixtures.factories import Tenant, make_tenant
from tests.room.helpers import scheduled, turn
from viva.app import create_app
from viva.recordings.service import ASSEMBLE_AFTER, TAIL

ANSWER = "I designed the payments service and measured every change before shipping it."
QUESTION = "Tell me about a system you built and how you knew it worked."


@pytest.fixture(scope="module")
def takes() -> tuple[bytes, bytes]:
    """Two takes as the browser would write them: WebM/Opus of real speech, then Ogg/Opus."""
    return transcode(espeak_wav(ANSWER), "webm"), transcode(espeak_wav(QUESTION), "ogg")


async def live_session(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    s = await scheduled(client, tenant)
    r = await client.post(f"{s['path']}/start", json={"consent": True})
    assert r.status_code == 200, r.text
    await turn(client, s["path"])  # the interviewer's opening
    return s


async def record(client: httpx.AsyncClient, path: str, data: bytes, mime: str, parts: int = 3) -> int:
    r = await client.post(f"{path}/recording")
    assert r.status_code == 200, r.text
    take = int(r.json()["take"])
    for seq, part in enumerate(pieces(data, parts)):
        r = await client.put(f"{path}/recording/{take}/{seq}", content=part, headers={"content-type": mime})
        assert r.status_code == 204, r.text
    return take


async def end_and_assemble(
    client: httpx.AsyncClient, s: dict[str, Any], worker: Any, frozen: FrozenClock
) -> None:
    r = await client.post(f"{s['path']}/end", json={})
    assert r.status_code == 200, r.text
    await worker.drain()  # scoring runs; the assembly waits for late parts
    frozen.advance(seconds=ASSEMBLE_AFTER.total_seconds() + 1)
    await worker.drain()


async def fetch(client: httpx.AsyncClient, url: str) -> httpx.Response:
    parts = urlsplit(url)
    return await client.get(f"{parts.path}?{parts.query}")


async def test_parts_become_one_playable_recording_behind_a_signed_link(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, worker: Any, frozen: FrozenClock, takes
) -> None:
    s = await live_session(client, tenant)
    webm, ogg = takes
    assert await record(client, s["path"], webm, "audio/webm;codecs=opus") == 0
    # The page was reloaded: a second take, in Ogg this time.
    assert await record(client, s["path"], ogg, "audio/ogg", parts=2) == 1

    r = await client.get(f"/api/v1/sessions/{s['id']}/recording", headers=tenant.headers)
    assert r.status_code == 404 and r.json()["code"] == "recording_not_ready"
    await end_and_assemble(client, s, worker, frozen)

    r = await client.get(f"/api/v1/sessions/{s['id']}/recording", headers=tenant.headers)
    assert r.status_code == 200, r.text
    info = r.json()["data"]
    expected = seconds_of(webm) + seconds_of(ogg)
    assert info["content_type"] == "audio/ogg" and info["status"] == "ready"
    assert info["duration_seconds"] == pytest.approx(expected, abs=0.1)
    assert datetime.fromisoformat(info["expires_at"]) == frozen.now + timedelta(hours=1)

    audio = await fetch(client, info["url"])
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/ogg"
    assert audio.content[:4] == b"OggS" and len(audio.content) == info["size_bytes"]
    assert seconds_of(audio.content) == pytest.approx(expected, abs=0.1)
    assert "no-store" in audio.headers["cache-control"]

    # A player seeks with byte ranges.
    parts = urlsplit(info["url"])
    r = await client.get(f"{parts.path}?{parts.query}", headers={"range": "bytes=100-199"})
    assert r.status_code == 206 and r.content == audio.content[100:200]
    assert r.headers["content-range"] == f"bytes 100-199/{len(audio.content)}"
    r = await client.get(f"{parts.path}?{parts.query}", headers={"range": "bytes=-50"})
    assert r.status_code == 206 and r.content == audio.content[-50:]
    r = await client.get(f"{parts.path}?{parts.query}", headers={"range": f"bytes={len(audio.content)}-"})
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{len(audio.content)}"

    session = (await client.get(f"/api/v1/sessions/{s['id']}", headers=tenant.headers)).json()["data"]
    assert session["recording_url"] and urlsplit(session["recording_url"]).path == urlsplit(info["url"]).path
    # The parts are gone once assembled: one file per interview.
    keys = await app.state.blob_store.list_keys(f"recordings/{s['candidate_id']}")
    assert keys == [f"recordings/{s['candidate_id']}/{s['id']}.ogg"]


async def test_the_link_expires_after_an_hour_and_cannot_be_altered(
    client: httpx.AsyncClient, tenant: Tenant, worker: Any, frozen: FrozenClock, takes
) -> None:
    s = await live_session(client, tenant)
    await record(client, s["path"], takes[0], "audio/webm")
    await end_and_assemble(client, s, worker, frozen)
    url = (await client.get(f"/api/v1/sessions/{s['id']}/recording", headers=tenant.headers)).json()["data"][
        "url"
    ]

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    forged = f"{parts.path}?expires={int(query['expires'][0]) + 86400}&signature={query['signature'][0]}"
    r = await client.get(forged)
    assert r.status_code == 403 and r.json()["code"] == "invalid_signature"
    other_key = parts.path.replace(s["id"], "00000000-0000-0000-0000-000000000000")
    r = await client.get(f"{other_key}?{parts.query}")
    assert r.status_code == 403 and r.json()["code"] == "invalid_signature"
    r = await client.get(parts.path)
    assert r.status_code == 403
    r = await client.get(f"{parts.path}?expires={query['expires'][0]}&signature=%C3%A9")  # not ASCII
    assert r.status_code == 403 and r.json()["code"] == "invalid_signature"

    frozen.advance(minutes=59)
    assert (await fetch(client, url)).status_code == 200
    frozen.advance(minutes=1, seconds=1)
    r = await fetch(client, url)
    assert r.status_code == 403 and r.json()["code"] == "link_expired"
    fresh = (await client.get(f"/api/v1/sessions/{s['id']}", headers=tenant.headers)).json()["data"][
        "recording_url"
    ]
    assert fresh != url and (await fetch(client, fresh)).status_code == 200


async def test_erasing_the_participant_deletes_the_audio(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, worker: Any, frozen: FrozenClock, takes
) -> None:
    s = await live_session(client, tenant)
    # The same candidate's second interview, still being recorded at the erasure: its parts go too.
    body = {k: s[k] for k in ("candidate_id", "evaluation_template_id", "stage")}
    r = await client.post("/api/v1/sessions", json={**body, "force": True}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    second = r.json()["data"]
    second_path = "/join/" + second["join_url"].rsplit("/join/", 1)[1]
    assert (await client.post(f"{second_path}/start", json={"consent": True})).status_code == 200
    await turn(client, second_path)
    await record(client, second_path, takes[1], "audio/ogg")
    await record(client, s["path"], takes[0], "audio/webm")
    await end_and_assemble(client, s, worker, frozen)
    # Another candidate's interview is not touched.
    kept = await live_session(client, tenant)
    await record(client, kept["path"], takes[1], "audio/ogg")
    url = (await client.get(f"/api/v1/sessions/{s['id']}/recording", headers=tenant.headers)).json()["data"][
        "url"
    ]
    folder = f"recordings/{s['candidate_id']}"
    assert await app.state.blob_store.list_keys(f"{folder}/{second['id']}/parts")
    assert f"{folder}/{s['id']}.ogg" in await app.state.blob_store.list_keys(folder)

    r = await client.delete(f"/api/v1/participants/{s['candidate_id']}", headers=tenant.headers)
    assert r.status_code == 204
    assert (await fetch(client, url)).status_code == 404  # at once, before the bytes are deleted
    await worker.drain()
    assert await app.state.blob_store.list_keys(folder) == []
    assert await app.state.blob_store.list_keys(f"recordings/{kept['candidate_id']}/{kept['id']}/parts") != []
    r = await client.put(f"{s['path']}/recording/0/9", content=b"x", headers={"content-type": "audio/webm"})
    assert r.status_code == 404


async def test_retention_deletes_recordings_after_the_set_days(
    database_url: str, frozen: FrozenClock, takes
) -> None:
    app = create_app(make_settings(database_url, recording_retention_days=30))
    from viva.app import make_worker

    worker = make_worker(app, poll_seconds=0.05)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            tenant = await make_tenant(app, "acme")
            s = await live_session(client, tenant)
            await record(client, s["path"], takes[0], "audio/webm")
            await end_and_assemble(client, s, worker, frozen)
            key = f"recordings/{s['candidate_id']}/{s['id']}.ogg"
            assert await app.state.blob_store.list_keys(f"recordings/{s['candidate_id']}") == [key]

            frozen.advance(days=29)
            await worker.schedule_periodic()
            await worker.drain()
            r = await client.get(f"/api/v1/sessions/{s['id']}/recording", headers=tenant.headers)
            assert r.status_code == 200

            frozen.advance(days=1, hours=1)
            worker._next_periodic = 0  # the next hourly sweep, now
            await worker.schedule_periodic()
            await worker.drain()
            r = await client.get(f"/api/v1/sessions/{s['id']}/recording", headers=tenant.headers)
            assert r.status_code == 404 and r.json()["code"] == "recording_expired"
            session = (await client.get(f"/api/v1/sessions/{s['id']}", headers=tenant.headers)).json()["data"]
            assert session["recording_url"] is None
            assert await app.state.blob_store.list_keys(f"recordings/{s['candidate_id']}") == []
    finally:
        await worker.context.http.aclose()
        await app.state.engine.dispose()


async def test_a_text_interview_has_no_recording(client: httpx.AsyncClient, tenant: Tenant) -> None:
    s = await live_session(client, tenant)
    session = (await client.get(f"/api/v1/sessions/{s['id']}", headers=tenant.headers)).json()["data"]
    assert session["recording_url"] is None and session["voice_metrics"] is None
    r = await client.get(f"/api/v1/sessions/{s['id']}/recording", headers=tenant.headers)
    assert r.status_code == 404 and r.json()["code"] == "no_recording"


async def test_audio_that_does_not_decode_is_reported_failed(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, worker: Any, frozen: FrozenClock
) -> None:
    s = await live_session(client, tenant)
    await record(client, s["path"], b"\x1a\x45\xdf\xa3 not really webm" * 50, "audio/webm")
    await end_and_assemble(client, s, worker, frozen)
    r = await client.get(f"/api/v1/sessions/{s['id']}/recording", headers=tenant.headers)
    assert r.status_code == 404 and r.json()["code"] == "recording_failed"
    assert await app.state.blob_store.list_keys(f"recordings/{s['candidate_id']}") == []


async def test_parts_are_refused_clearly(
    client: httpx.AsyncClient, tenant: Tenant, worker: Any, frozen: FrozenClock, takes
) -> None:
    s = await scheduled(client, tenant)
    r = await client.post(f"{s['path']}/recording")
    assert r.status_code == 409 and r.json()["code"] == "interview_not_active"
    await client.post(f"{s['path']}/start", json={"consent": True})
    r = await client.put(f"{s['path']}/recording/0/0", content=b"abc", headers={"content-type": "audio/webm"})
    assert r.status_code == 409 and r.json()["code"] == "recording_closed"  # no take started

    take = await record(client, s["path"], takes[0], "audio/webm", parts=1)
    path = f"{s['path']}/recording/{take}"
    r = await client.put(f"{path}/1", content=b"abc", headers={"content-type": "text/plain"})
    assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["body"]
    r = await client.put(f"{path}/1", content=b"", headers={"content-type": "audio/webm"})
    assert r.status_code == 400 and "empty" in r.json()["issues"][0]["message"]
    r = await client.put(f"{s['path']}/recording/7/0", content=b"abc", headers={"content-type": "audio/webm"})
    assert r.status_code == 404
    r = await client.put(f"{path}/100000", content=b"abc", headers={"content-type": "audio/webm"})
    assert r.status_code == 400
    r = await client.put(
        f"{path}/1", content=b"x" * (1024 * 1024 + 1), headers={"content-type": "audio/webm"}
    )
    assert r.status_code == 413

    await client.post(f"{s['path']}/end", json={})
    # The last part may still arrive until the upload window closes...
    r = await client.put(f"{path}/1", content=takes[0][:100], headers={"content-type": "audio/webm"})
    assert r.status_code == 204
    frozen.advance(seconds=TAIL.total_seconds() - 1)
    r = await client.put(f"{path}/2", content=takes[0][100:200], headers={"content-type": "audio/webm"})
    assert r.status_code == 204
    # ...but not after, and the assembly waits until then: nothing accepted is left out.
    frozen.advance(seconds=2)
    r = await client.put(f"{path}/3", content=b"abc", headers={"content-type": "audio/webm"})
    assert r.status_code == 409 and r.json()["code"] == "recording_closed"
    await worker.drain()
    r = await client.get(f"/api/v1/sessions/{s['id']}/recording", headers=tenant.headers)
    assert r.json()["code"] == "recording_not_ready"
    frozen.advance(seconds=(ASSEMBLE_AFTER - TAIL).total_seconds())
    await worker.drain()
    r = await client.get(f"/api/v1/sessions/{s['id']}/recording", headers=tenant.headers)
    assert r.status_code == 200, r.text  # assembled, with the parts sent in the window
    r = await client.put(f"{path}/3", content=b"abc", headers={"content-type": "audio/webm"})
    assert r.status_code == 409 and r.json()["code"] == "recording_closed"


async def test_a_take_with_no_part_is_no_recording(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, worker: Any, frozen: FrozenClock
) -> None:
    s = await live_session(client, tenant)
    assert (await client.post(f"{s['path']}/recording")).status_code == 200  # the page closed at once
    await end_and_assemble(client, s, worker, frozen)
    r = await client.get(f"/api/v1/sessions/{s['id']}/recording", headers=tenant.headers)
    assert r.status_code == 404 and r.json()["code"] == "no_recording"


async def test_a_profile_that_excludes_the_transcript_excludes_the_recording(
    client: httpx.AsyncClient, tenant: Tenant, worker: Any, frozen: FrozenClock, takes
) -> None:
    s = await scheduled(client, tenant)
    stage = (
        await client.get(f"/api/v1/evaluation-stages/{s['evaluation_stage_id']}", headers=tenant.headers)
    ).json()
    r = await client.patch(
        f"/api/v1/agent-profiles/{stage['data']['agent_profile_id']}",
        json={"output": {"includeTranscript": False}},
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    r = await client.post(f"{s['path']}/start", json={"consent": True})
    assert r.status_code == 200, r.text
    await record(client, s["path"], takes[0], "audio/webm")
    await end_and_assemble(client, s, worker, frozen)
    session = (await client.get(f"/api/v1/sessions/{s['id']}", headers=tenant.headers)).json()["data"]
    assert "recording_url" not in session and "transcript_url" not in session
    r = await client.get(f"/api/v1/sessions/{s['id']}/recording", headers=tenant.headers)
    assert r.status_code == 403 and r.json()["code"] == "output_disabled"
