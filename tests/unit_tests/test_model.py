"""Which endpoint the environment selects, and the context's checks."""

from __future__ import annotations

import pytest
from langchain_openai import ChatOpenAI

from agent.conversation.context import Context
from agent.models.endpoint import (
    ModelNotConfiguredError,
    load_chat_model,
    resolve_endpoint,
    uses_embedded_model,
)
from agent.settings import LOCAL_MODEL_URL


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", LOCAL_MODEL_URL.name):
        monkeypatch.delenv(name, raising=False)


def test_key_alone_selects_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    endpoint = resolve_endpoint()
    assert (endpoint.kind, endpoint.base_url, endpoint.api_key) == ("openai", None, "sk-test")
    assert not uses_embedded_model()


def test_base_url_selects_compatible_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    endpoint = resolve_endpoint()
    assert endpoint.kind == "compatible"
    assert endpoint.base_url == "http://127.0.0.1:11434/v1"
    assert not uses_embedded_model()


def test_neither_selects_embedded_server(monkeypatch: pytest.MonkeyPatch) -> None:
    assert uses_embedded_model()
    monkeypatch.setenv(LOCAL_MODEL_URL.name, "http://127.0.0.1:5555/v1")
    endpoint = resolve_endpoint()
    assert (endpoint.kind, endpoint.base_url) == ("embedded", "http://127.0.0.1:5555/v1")


def test_embedded_model_not_running_explains_the_fix() -> None:
    with pytest.raises(ModelNotConfiguredError, match="make dev.*OPENAI_API_KEY.*OPENAI_BASE_URL"):
        resolve_endpoint()


def test_chat_model_carries_context_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    model = load_chat_model(Context(model="llama3.2", temperature=0.5))
    assert isinstance(model, ChatOpenAI)
    assert (model.model_name, model.temperature) == ("llama3.2", 0.5)
    assert model.openai_api_base == "http://127.0.0.1:9/v1"
    assert load_chat_model(Context(model="llama3.2", temperature=0.5)) is model, "client reused"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("temperature", 3.0, "temperature=3.0 is out of range"),
        ("max_history_tokens", 0, "max_history_tokens=0 is too small"),
    ],
)
def test_context_rejects_unusable_values(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Context(**{field: value})


def test_context_fields_describe_themselves_for_studio() -> None:
    from dataclasses import fields

    described = {f.name for f in fields(Context) if f.metadata.get("description")}
    assert described == {
        "model",
        "system_prompt",
        "temperature",
        "max_history_tokens",
        "summarize",
        "remember",
    }
