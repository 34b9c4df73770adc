"""Encryption at rest for platform credentials (Fernet, with key rotation)."""
from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class KeyringError(RuntimeError):
    """No usable encryption key is configured, or a token can't be decrypted."""


class Keyring:
    """Encrypts with the newest key; decrypts with any configured key (rotation)."""

    def __init__(self, keys: list[str]):
        if not keys:
            raise KeyringError("STOCKROOM_ENCRYPTION_KEYS is not set: platform credentials "
                               "can't be stored. Generate one with "
                               "`python -c 'from cryptography.fernet import Fernet; "
                               "print(Fernet.generate_key().decode())'`.")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except ValueError as exc:
            raise KeyringError(f"an encryption key is malformed: {exc}") from None

    def encrypt(self, plaintext: str) -> bytes:
        """Encrypt a string with the primary key."""
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, token: bytes) -> str:
        """Decrypt a token made with any configured key."""
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken:
            raise KeyringError("credentials can't be decrypted with the configured keys") from None

    def encrypt_json(self, value: dict) -> bytes:
        """Encrypt a JSON-serializable dict."""
        return self.encrypt(json.dumps(value, separators=(",", ":")))

    def decrypt_json(self, token: bytes) -> dict:
        """Decrypt a token made by :meth:`encrypt_json`."""
        return json.loads(self.decrypt(token))

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt a token under the primary key (after adding a new key)."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken:
            raise KeyringError("credentials can't be decrypted with the configured keys") from None
