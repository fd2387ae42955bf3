"""The PONTE-HMAC-SHA256-V1 request signature (see design/ERP-CONTRACT.md).

Pure functions: build the canonical signed text, sign it, parse the four signature parameters
from headers or query string, and verify a signature against a secret. Key lookup, nonce replay
and rate limiting belong to the caller, which knows the database.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

SCHEME = "PONTE-HMAC-SHA256-V1"
DEFAULT_MAX_SKEW = 300

HEADER_NAMES = ("Ponte-Key-Id", "Ponte-Timestamp", "Ponte-Nonce", "Ponte-Signature")
QUERY_NAMES = ("ponte_kid", "ponte_ts", "ponte_nonce", "ponte_sig")

_NONCE_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
_SIG_RE = re.compile(r"v1=[0-9a-f]{64}")
_TS_RE = re.compile(r"[0-9]{1,12}")  # unsigned decimal only: no "+1", " 1", "1e9", "-5"
_KEY_ID_MAX = 128


class MalformedSignatureError(ValueError):
    """The signature parameters are missing or do not have the contract's shape (HTTP 400)."""


@dataclass(frozen=True)
class SignatureParams:
    key_id: str
    timestamp: int
    nonce: str
    signature: str  # "v1=<64 lowercase hex>"


def _pct(text: str) -> str:
    # RFC 3986 unreserved characters only; quote() encodes space as %20 and UTF-8 for the rest.
    return quote(text, safe="-_.~")


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Decoded (name, value) pairs -> the contract's canonical query line (ponte_* dropped)."""
    encoded = sorted(
        (_pct(name), _pct(value)) for name, value in pairs if not name.startswith("ponte_")
    )
    # Sorting on the encoded form keeps the order byte-stable whatever the client's locale.
    return "&".join(f"{name}={value}" for name, value in encoded)


def signed_text(method: str, path: str, query_pairs: Iterable[tuple[str, str]], key_id: str,
                timestamp: int | str, nonce: str, body: bytes = b"") -> str:
    body_hash = hashlib.sha256(body or b"").hexdigest()
    return "\n".join([SCHEME, method.upper(), path, canonical_query(query_pairs), key_id,
                      str(timestamp), nonce, body_hash])


def sign(secret: str, method: str, path: str, query_pairs: Iterable[tuple[str, str]],
         key_id: str, timestamp: int | str, nonce: str, body: bytes = b"") -> str:
    text = signed_text(method, path, query_pairs, key_id, timestamp, nonce, body)
    digest = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()
    return "v1=" + digest


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # Werkzeug's headers are case-insensitive but a plain dict is not: try both spellings.
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value


def parse_signature_params(headers: Mapping[str, str],
                           query_pairs: Iterable[tuple[str, str]]) -> SignatureParams:
    """Read the four parameters from headers, else from the query; raise if malformed.

    Mixing sources is refused: a request is signed either by headers or by query string.
    """
    query_pairs = list(query_pairs)
    from_headers = [_header(headers, n) for n in HEADER_NAMES]
    query: dict[str, list[str]] = {}
    for name, value in query_pairs:
        if name in QUERY_NAMES:
            query.setdefault(name, []).append(value)

    if any(v is not None for v in from_headers):
        if query:
            raise MalformedSignatureError("signature parameters in both headers and query")
        values = from_headers
    else:
        if any(len(v) > 1 for v in query.values()):
            raise MalformedSignatureError("repeated signature query parameter")
        values = [query.get(n, [None])[0] for n in QUERY_NAMES]

    if any(v is None for v in values):
        raise MalformedSignatureError("missing signature parameter")
    key_id, ts, nonce, sig = values  # no stripping: a stray space is a malformed request
    if not key_id or len(key_id) > _KEY_ID_MAX or not key_id.isprintable():
        raise MalformedSignatureError("bad key id")
    if not _TS_RE.fullmatch(ts):
        raise MalformedSignatureError("bad timestamp")
    if not _NONCE_RE.fullmatch(nonce):
        raise MalformedSignatureError("bad nonce")
    if not _SIG_RE.fullmatch(sig):
        raise MalformedSignatureError("bad signature format")
    return SignatureParams(key_id=key_id, timestamp=int(ts), nonce=nonce, signature=sig)


def verify(secret: str, params: SignatureParams, method: str, path: str,
           query_pairs: Iterable[tuple[str, str]], body: bytes, now: float,
           max_skew: int = DEFAULT_MAX_SKEW) -> bool:
    """True when the timestamp is within max_skew of now and the signature matches."""
    if abs(int(now) - params.timestamp) > max_skew:
        return False
    expected = sign(secret, method, path, query_pairs, params.key_id, params.timestamp,
                    params.nonce, body)
    # Constant-time comparison so the response time does not leak how many bytes matched.
    return hmac.compare_digest(expected.encode("ascii"), params.signature.encode("ascii"))
