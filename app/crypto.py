"""Encryption at rest for platform credentials and signing secrets (Fernet, rotatable).

Keys come from CREDENTIALS_KEYS, newest first: new values are encrypted with the first key,
old values still decrypt with any key until `rotate` re-encrypts them.
"""
from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class CredentialsError(Exception):
    pass


def _fernet() -> MultiFernet:
    keys = current_app.config["CREDENTIALS_KEYS"]
    try:
        return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])
    except ValueError as exc:
        raise CredentialsError(f"CREDENTIALS_KEYS holds a key that is not a Fernet key: {exc}")


def encrypt_text(text: str) -> bytes:
    return _fernet().encrypt(text.encode())


def decrypt_text(token: bytes) -> str:
    try:
        return _fernet().decrypt(token).decode()
    except InvalidToken:
        raise CredentialsError("stored secret cannot be decrypted with any CREDENTIALS_KEYS key")


def encrypt_json(data: dict) -> bytes:
    return encrypt_text(json.dumps(data, sort_keys=True))


def decrypt_json(token: bytes | None) -> dict:
    return json.loads(decrypt_text(token)) if token else {}


def rotate(token: bytes) -> bytes:
    """Re-encrypt with the newest key (used after adding a key in front of CREDENTIALS_KEYS)."""
    return _fernet().rotate(token)
