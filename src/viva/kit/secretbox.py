"""Symmetric encryption for secrets that must be read back (webhook signing secrets,
join tokens): Fernet (AES-128-CBC + HMAC-SHA256) from `cryptography`."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


class SecretBox:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())
        self._key = key.encode()

    def derive(self, purpose: str) -> str:
        """A key for one other purpose (e.g. signing download links), derived from this one, so
        the encryption key itself never signs anything and rotating it rotates them all."""
        return hmac.new(self._key, purpose.encode(), hashlib.sha256).hexdigest()

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("secret cannot be decrypted with this VIVA_SECRET_KEY") from exc


def load_or_create_key(key: str | None, key_file: str) -> str:
    """The configured key, or one generated on first use and kept in `key_file` (mode 600)."""
    if key:
        return key
    path = Path(key_file)
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    new = Fernet.generate_key().decode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race; use its key
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(new + "\n")
    return new
