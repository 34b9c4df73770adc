"""The app's keyring (credentials at rest), built once from ENCRYPTION_KEYS."""
from __future__ import annotations

from flask import current_app

from app.security.crypto import Keyring


def get_keyring() -> Keyring:
    """The current app's keyring; raises KeyringError when no key is configured."""
    ring = current_app.extensions.get("stockroom.keyring")
    if ring is None:
        ring = Keyring(current_app.config["ENCRYPTION_KEYS"])
        current_app.extensions["stockroom.keyring"] = ring
    return ring
