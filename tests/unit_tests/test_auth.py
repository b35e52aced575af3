"""Tokens, the authenticate handler and the ownership rules, without a server."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from langgraph_sdk import Auth

from agent import LOCAL_USER
from agent.server.auth import owner_filter, require_admin, scope_namespace
from agent.server.tokens import (
    ADMIN_PERMISSION,
    TokenError,
    authenticate_header,
    create_token,
    verify_token,
)

SECRET = "unit-test-secret-that-is-long-enough-for-hs256"


def test_a_token_names_its_user_and_role() -> None:
    assert verify_token(create_token("alice", SECRET), SECRET).user_id == "alice"
    assert not verify_token(create_token("alice", SECRET), SECRET).admin
    assert verify_token(create_token("root", SECRET, admin=True), SECRET).admin


def test_a_token_expires() -> None:
    token = create_token("alice", SECRET, expires_in=60, now=time.time() - 3600)
    with pytest.raises(TokenError, match="expired"):
        verify_token(token, SECRET)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (create_token("alice", "some-other-secret-some-other-secret"), "signature"),
        ("not-a-jwt", "not valid"),
        (jwt.encode({"exp": int(time.time()) + 60}, SECRET, algorithm="HS256"), "not valid"),
        (jwt.encode({"sub": "alice"}, SECRET, algorithm="HS256"), "not valid"),
        (
            jwt.encode({"sub": "alice", "exp": int(time.time()) + 60}, SECRET, algorithm="HS512"),
            "not valid",
        ),
    ],
    ids=["wrong-secret", "garbage", "no-sub", "no-exp", "other-algorithm"],
)
def test_bad_tokens_are_refused(token: str, message: str) -> None:
    with pytest.raises(TokenError, match=message):
        verify_token(token, SECRET)


def test_an_empty_user_id_is_refused() -> None:
    with pytest.raises(ValueError):
        create_token("  ", SECRET)


def test_without_a_secret_everyone_is_the_local_admin() -> None:
    user = authenticate_header(None, None)
    assert user["identity"] == LOCAL_USER
    assert ADMIN_PERMISSION in user["permissions"]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "no token was sent"),
        ("", "no token was sent"),
        ("Basic YWxpY2U6cHc=", "not a bearer token"),
        ("Bearer", "not a bearer token"),
        ("Bearer nonsense", "not valid"),
        (f"Bearer {create_token('alice', 'another-secret-another-secret-xx')}", "signature"),
    ],
)
def test_with_a_secret_a_missing_or_bad_token_is_401(header: str | None, message: str) -> None:
    with pytest.raises(Auth.exceptions.HTTPException) as raised:
        authenticate_header(header, SECRET)
    assert raised.value.status_code == 401
    assert message in str(raised.value.detail)
    assert "chatbot token create" in str(raised.value.detail)


def test_with_a_secret_a_good_token_names_the_user() -> None:
    user = authenticate_header(f"Bearer {create_token('alice', SECRET)}", SECRET)
    assert user["identity"] == "alice"
    assert user["permissions"] == []
    admin = authenticate_header(f"bearer {create_token('root', SECRET, admin=True)}", SECRET)
    assert admin["permissions"] == [ADMIN_PERMISSION]


def test_owner_filter_records_the_owner_and_cannot_be_overridden() -> None:
    value: dict[str, Any] = {"metadata": {"owner": "mallory", "topic": "x"}}
    assert owner_filter("alice", value) == {"owner": "alice"}
    assert value["metadata"] == {"owner": "alice", "topic": "x"}
    bare: dict[str, Any] = {"thread_id": "t"}
    owner_filter("bob", bare)
    assert bare["metadata"] == {"owner": "bob"}


def test_only_an_admin_changes_assistants() -> None:
    require_admin([ADMIN_PERMISSION], "create")
    with pytest.raises(Auth.exceptions.HTTPException) as raised:
        require_admin([], "delete")
    assert raised.value.status_code == 403


def test_store_namespaces_start_with_the_user_id() -> None:
    listing: dict[str, Any] = {"namespace": None}
    scope_namespace("alice", listing)
    assert listing["namespace"] == ("alice",)
    own: dict[str, Any] = {"namespace": ("alice", "notes")}
    scope_namespace("alice", own)
    assert own["namespace"] == ("alice", "notes")
    with pytest.raises(Auth.exceptions.HTTPException) as raised:
        scope_namespace("bob", {"namespace": ("alice", "notes")})
    assert raised.value.status_code == 403


def _whoami_client() -> Any:
    from starlette.applications import Starlette
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from agent.server.webapp import whoami

    return TestClient(Starlette(routes=[Route("/chatbot/me", whoami)]))


def test_the_page_learns_its_graph_and_the_local_user_from_the_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from agent import GRAPH_ID

    monkeypatch.delenv("CHATBOT_AUTH_SECRET", raising=False)
    answer = _whoami_client().get("/chatbot/me")
    assert answer.status_code == 200
    assert answer.json() == {"graph_id": GRAPH_ID, "user": LOCAL_USER}


def test_the_page_is_known_as_its_tokens_user_and_a_bad_token_is_refused_with_401(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHATBOT_AUTH_SECRET", SECRET)
    client = _whoami_client()
    token = create_token("소연", SECRET)
    answer = client.get("/chatbot/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json()["user"] == "소연"
    for headers in (
        {},
        {
            "Authorization": f"Bearer {create_token('eve', 'another-secret-that-is-long-enough-for-hs256')}"
        },
    ):
        refused = client.get("/chatbot/me", headers=headers)
        assert refused.status_code == 401
        assert "chatbot token create" in refused.json()["detail"]
        assert refused.headers["www-authenticate"] == "Bearer"
