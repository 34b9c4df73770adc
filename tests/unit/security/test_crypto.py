"""Credentials encryption at rest, with key rotation."""
import pytest
from cryptography.fernet import Fernet

from app.security.crypto import Keyring, KeyringError


def test_keyring_round_trips_and_never_stores_clear_text():
    ring = Keyring([Fernet.generate_key().decode()])
    token = ring.encrypt_json({"access_token": "shpat_secret"})
    assert b"shpat_secret" not in token
    assert ring.decrypt_json(token) == {"access_token": "shpat_secret"}


def test_keyring_rotation_keeps_old_tokens_readable():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = Keyring([old]).encrypt("s3cret")
    rotated_ring = Keyring([new, old])
    assert rotated_ring.decrypt(token) == "s3cret"
    rotated = rotated_ring.rotate(token)
    assert Keyring([new]).decrypt(rotated) == "s3cret"
    with pytest.raises(KeyringError):
        Keyring([new]).decrypt(token)


def test_keyring_without_keys_explains_how_to_make_one():
    with pytest.raises(KeyringError, match="STOCKROOM_ENCRYPTION_KEYS"):
        Keyring([])
    with pytest.raises(KeyringError, match="malformed"):
        Keyring(["not-a-key"])
