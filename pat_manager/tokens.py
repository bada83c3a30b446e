"""The PAT format, in one place.

    cvf_ + public id (12) + secret (32) + checksum (6)     54 characters, [0-9A-Za-z_]

* `cvf_` lets people and secret scanners recognise a leaked token.
* The public id names the row; it is not secret and is useless on its own.
* The secret is HMAC-SHA256(token key, public id + per-token seed), where the token
  key is derived from the server's secret key. The database stores only the seed, so
  a copy of the database alone yields no usable token, while the server can
  recompute the token for its owner (the guide's "Reveal").
* The checksum (CRC32 of everything before it, base62) rejects a mistyped or
  truncated token before any database lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import zlib
from dataclasses import dataclass

PREFIX = "cvf_"
PUBLIC_ID_LEN = 12
SECRET_LEN = 32
CHECKSUM_LEN = 6
TOKEN_LEN = len(PREFIX) + PUBLIC_ID_LEN + SECRET_LEN + CHECKSUM_LEN

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SHAPE = re.compile(rf"{PREFIX}[0-9A-Za-z]{{{TOKEN_LEN - len(PREFIX)}}}")


def _base62(number: int, width: int) -> str:
    chars = []
    while number:
        number, rem = divmod(number, 62)
        chars.append(_ALPHABET[rem])
    text = "".join(reversed(chars)).rjust(width, "0")
    return text[-width:]


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LEN)


def derive_token_key(secret_key: str) -> bytes:
    """A key used only for PAT secrets, separate from the session-signing use."""
    return hmac.new(
        secret_key.encode(), b"pat-manager/pat-secret/v1", hashlib.sha256
    ).digest()


def new_public_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(PUBLIC_ID_LEN))


def new_seed() -> str:
    return secrets.token_hex(32)


def _secret(token_key: bytes, public_id: str, seed: str) -> str:
    digest = hmac.new(
        token_key, f"{public_id}:{seed}".encode(), hashlib.sha256
    ).digest()
    return _base62(int.from_bytes(digest, "big"), SECRET_LEN)


def assemble(token_key: bytes, public_id: str, seed: str) -> str:
    """The full token for a stored (public id, seed) pair."""
    body = PREFIX + public_id + _secret(token_key, public_id, seed)
    return body + _checksum(body)


@dataclass(frozen=True)
class ParsedToken:
    public_id: str
    secret: str


def parse(token: str) -> ParsedToken | None:
    """Split a well-formed token; None for anything malformed or mistyped."""
    if len(token) != TOKEN_LEN or not _SHAPE.fullmatch(token):
        return None
    body, check = token[:-CHECKSUM_LEN], token[-CHECKSUM_LEN:]
    if not hmac.compare_digest(_checksum(body), check):
        return None
    rest = body[len(PREFIX) :]
    return ParsedToken(public_id=rest[:PUBLIC_ID_LEN], secret=rest[PUBLIC_ID_LEN:])


def secret_matches(token_key: bytes, parsed: ParsedToken, seed: str) -> bool:
    """Constant-time check that a parsed token's secret belongs to this seed."""
    return hmac.compare_digest(
        _secret(token_key, parsed.public_id, seed), parsed.secret
    )


_ANYWHERE = re.compile(rf"{PREFIX}[0-9A-Za-z]{{{TOKEN_LEN - len(PREFIX) - 8},}}")


def redact(text: str) -> str:
    """Text with anything token-shaped blanked out, for log lines."""
    return _ANYWHERE.sub(PREFIX + "[redacted]", text)


def display_hint(public_id: str) -> str:
    """What the UI shows of a hidden token: enough to tell tokens apart."""
    return f"{PREFIX}{public_id[:6]}…"
