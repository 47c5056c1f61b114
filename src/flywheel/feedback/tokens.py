"""The survey link's token: 256 random-looking bits that reveal nothing else.

Each invitation keeps a random nonce and the SHA-256 of its token. The token itself is
HMAC-SHA256(secret key, nonce): the server derives it again for the reminder, while someone who
reads the database alone can neither follow a link nor forge one. The page looks an answer up by
the hash of the token it is given."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flywheel.config import Settings
from flywheel.web.sessions import secret_key

TOKEN_LENGTH = 43  # base64url of 32 bytes, without padding


def new_nonce() -> str:
    return secrets.token_hex(16)


def token_for(nonce: str, settings: Settings) -> str:
    digest = hmac.new(
        secret_key(settings).encode(), b"survey-link:" + nonce.encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def looks_like_token(token: str) -> bool:
    """Cheap shape check before any database work (the page answers 404 either way)."""
    return len(token) == TOKEN_LENGTH and all(
        c.isascii() and (c.isalnum() or c in "-_") for c in token
    )


def survey_url(token: str, settings: Settings) -> str:
    return f"{settings.public_url.rstrip('/')}/s/{token}"
