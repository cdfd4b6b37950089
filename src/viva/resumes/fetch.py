"""Downloading a resume from a URL the company gave us: https only, public addresses only
(checked at connect time by kit.net), bounded in size, time and redirects."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import httpx

from viva.kit.net import BlockedAddress
from viva.resumes.extract import MAX_INPUT_BYTES

FETCH_SECONDS = 20.0
MAX_REDIRECTS = 3


class FetchFailed(Exception):
    """The resume could not be downloaded; `reason` is safe to show as resume_error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Downloaded:
    data: bytes
    content_type: str | None
    filename: str | None


def _check_scheme(url: httpx.URL | str, allow_http: bool) -> None:
    scheme = urlsplit(str(url)).scheme
    if scheme != "https" and not (allow_http and scheme == "http"):
        raise FetchFailed("the resume URL must use https")


async def download(
    client: httpx.AsyncClient,
    url: str,
    *,
    allow_http: bool = False,
    max_bytes: int = MAX_INPUT_BYTES,
    seconds: float = FETCH_SECONDS,
) -> Downloaded:
    """Fetch `url` with `client` (a kit.net guarded client), following at most three
    redirects, each checked again. Raises FetchFailed with a human-readable reason."""
    try:
        async with asyncio.timeout(seconds):
            for _ in range(MAX_REDIRECTS + 1):
                _check_scheme(url, allow_http)
                async with client.stream("GET", url, follow_redirects=False) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = str(response.url.join(response.headers["location"]))
                        continue
                    if response.status_code != 200:
                        raise FetchFailed(f"the resume URL answered HTTP {response.status_code}")
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        raise FetchFailed(f"the resume is larger than {max_bytes // 1_000_000} MB")
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise FetchFailed(f"the resume is larger than {max_bytes // 1_000_000} MB")
                        chunks.append(chunk)
                    name = unquote(urlsplit(str(response.url)).path.rsplit("/", 1)[-1]) or None
                    return Downloaded(b"".join(chunks), response.headers.get("content-type"), name)
            raise FetchFailed("the resume URL redirected too many times")
    except BlockedAddress:
        raise FetchFailed("the resume URL points at a private or local address") from None
    except TimeoutError:
        raise FetchFailed("downloading the resume took too long") from None
    except httpx.HTTPError as exc:
        raise FetchFailed(f"the resume could not be downloaded ({type(exc).__name__})") from None
