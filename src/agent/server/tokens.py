"""Signed bearer tokens (JWT, HS256) that name a user of the chatbot server."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt
from langgraph_sdk import Auth

from agent import LOCAL_USER, settings

SECRET_ENV = settings.AUTH_SECRET.name
"""Environment variable holding the signing secret; unset means auth is off."""

ALGORITHM = "HS256"
DEFAULT_EXPIRES_IN = 30 * 24 * 3600
"""Default token lifetime in seconds (30 days)."""

ADMIN_PERMISSION = "admin"
"""Permission carried by admin tokens: may create, change and delete assistants."""

AUTH_HELP = "Send 'Authorization: Bearer <token>'; create one with `chatbot token create <user>`."


class TokenError(Exception):
    """A token is missing, malformed, expired or wrongly signed."""


@dataclass(frozen=True)
class TokenUser:
    """Who a valid token names.

    Attributes:
        user_id: The ``sub`` claim.
        admin: Whether the token grants the admin role.
    """

    user_id: str
    admin: bool


def auth_secret() -> str | None:
    """Return the signing secret from ``CHATBOT_AUTH_SECRET``, or None if unset or empty."""
    return settings.AUTH_SECRET.get() or None


def create_token(
    user_id: str,
    secret: str,
    *,
    admin: bool = False,
    expires_in: int = DEFAULT_EXPIRES_IN,
    now: float | None = None,
) -> str:
    """Return a signed token for ``user_id``.

    Args:
        user_id: The user the token names (its ``sub`` claim).
        secret: The HS256 signing secret.
        admin: Give the token the admin role.
        expires_in: Lifetime in seconds.
        now: The issue time (defaults to the current time).
    """
    if not user_id.strip():
        raise ValueError("The user id must not be empty.")
    issued = int(time.time() if now is None else now)
    claims = {"sub": user_id, "iat": issued, "exp": issued + expires_in, "admin": admin}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(token: str, secret: str) -> TokenUser:
    """Return the user a token names, or raise TokenError saying what is wrong with it."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]}
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("The token has expired; create a new one.") from None
    except jwt.InvalidSignatureError:
        raise TokenError("The token's signature is not valid for this server.") from None
    except jwt.InvalidTokenError as error:
        raise TokenError(f"The token is not valid: {error}.") from None
    user_id = claims.get("sub")
    if not isinstance(user_id, str) or not user_id:
        raise TokenError("The token names no user (claim 'sub').")
    return TokenUser(user_id=user_id, admin=claims.get("admin") is True)


def _unauthorized(detail: str) -> Auth.exceptions.HTTPException:
    return Auth.exceptions.HTTPException(
        status_code=401,
        detail=f"{detail} {AUTH_HELP}",
        headers={"WWW-Authenticate": "Bearer"},
    )


def authenticate_header(
    authorization: str | None, secret: str | None
) -> Auth.types.MinimalUserDict:
    """Return the user an ``Authorization`` header names.

    Args:
        authorization: The header's value, if any.
        secret: The signing secret; None means auth is off.

    Raises:
        Auth.exceptions.HTTPException: 401 when the header is missing, not a
            bearer token, or the token is malformed, expired or wrongly signed.
    """
    if secret is None:
        return {"identity": LOCAL_USER, "permissions": [ADMIN_PERMISSION], "is_authenticated": True}
    if not authorization or not authorization.strip():
        raise _unauthorized("Authentication required: no token was sent.")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized(
            "Authentication required: the Authorization header is not a bearer token."
        )
    try:
        user = verify_token(token.strip(), secret)
    except TokenError as error:
        raise _unauthorized(str(error)) from None
    return {
        "identity": user.user_id,
        "permissions": [ADMIN_PERMISSION] if user.admin else [],
        "is_authenticated": True,
    }
