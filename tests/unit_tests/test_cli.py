"""The ``chatbot`` command without a server: tokens, and what it sends."""

from __future__ import annotations

import jwt
import pytest
from typer.testing import CliRunner

from agent.client import cli
from agent.client.cli import app
from agent.server.tokens import verify_token

SECRET = "unit-test-secret-that-is-long-enough-for-hs256"


def test_cli_token_create_prints_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATBOT_AUTH_SECRET", SECRET)
    result = CliRunner().invoke(app, ["token", "create", "alice", "--admin", "--expires-in", "60"])
    assert result.exit_code == 0, result.output
    user = verify_token(result.output.strip(), SECRET)
    assert (user.user_id, user.admin) == ("alice", True)
    claims = jwt.decode(result.output.strip(), SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 60


def test_cli_token_create_without_a_secret_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHATBOT_AUTH_SECRET", raising=False)
    result = CliRunner().invoke(app, ["token", "create", "alice"])
    assert result.exit_code == 2
    assert "CHATBOT_AUTH_SECRET is not set" in result.output


def test_cli_sends_chatbot_token_as_a_bearer_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATBOT_TOKEN", "abc.def.ghi")
    assert cli._client().http.client.headers["Authorization"] == "Bearer abc.def.ghi"
    monkeypatch.delenv("CHATBOT_TOKEN")
    assert "Authorization" not in cli._client().http.client.headers
