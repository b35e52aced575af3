"""The ``chatbot`` command without a server: tokens, and what it sends."""

from __future__ import annotations

import re
from typing import Any

import jwt
import pytest
from typer.testing import CliRunner

from agent.client import cli, conversations, session
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
    assert session.connect().http.client.headers["Authorization"] == "Bearer abc.def.ghi"
    monkeypatch.delenv("CHATBOT_TOKEN")
    assert "Authorization" not in session.connect().http.client.headers


def _state(checkpoint: str, parent: str | None, *ids: str) -> dict[str, Any]:
    return {
        "checkpoint": {"checkpoint_id": checkpoint},
        "parent_checkpoint": {"checkpoint_id": parent} if parent else None,
        "values": {"messages": [{"id": i, "type": "human", "content": i} for i in ids]},
    }


def test_edit_and_retry_start_from_the_checkpoint_before_the_message() -> None:
    history = [  # newest first, as get_history lists them
        _state("c4", "c3", "h1", "a1", "h2"),
        _state("c3", "c2", "h1", "a1"),
        _state("c2", "c1", "h1", "a1"),
        _state("c1", "c0", "h1"),
    ]
    assert conversations.fork_point(history, "h2") == {"checkpoint_id": "c3"}
    assert conversations.fork_point(history, "a1") == {"checkpoint_id": "c1"}
    # h1 first appears in the oldest kept state, whose parent was pruned: not editable.
    assert conversations.fork_point(history, "h1") is None
    assert conversations.fork_point(history, "never") is None


def test_search_matches_every_word_in_the_title_or_the_messages() -> None:
    thread = {
        "metadata": {"title": "Bird notes"},
        "values": {"messages": [{"type": "human", "content": "Pelicans glide over Oslo"}]},
    }
    assert conversations.matches(thread, "BIRD pelicans")
    assert conversations.matches(thread, "oslo")
    assert not conversations.matches(thread, "bird zebra")


def test_a_json_export_reads_back_as_the_same_conversation() -> None:
    thread = {"thread_id": "t1", "metadata": {"title": "Maths"}}
    values = {
        "language": "French",
        "messages": [
            {"type": "human", "content": "What is 2+2?"},
            {"type": "ai", "content": [{"type": "text", "text": "**4**"}]},
            {"type": "tool", "content": "not exported"},
        ],
    }
    title, language, messages = conversations.read_export(conversations.export_json(thread, values))
    assert (title, language) == ("Maths", "French")
    assert messages == [
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "**4**"},
    ]
    markdown = conversations.export_markdown(thread, values)
    assert markdown == "# Maths\n\n**You:**\n\nWhat is 2+2?\n\n**Bot:**\n\n**4**\n"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("not json", "not JSON"),
        ('{"messages": [{"role": "user", "content": "hi"}]}', "not a conversation export"),
        ('{"format": "chatbot-conversation", "messages": []}', "not a conversation export"),
        (
            '{"format": "chatbot-conversation", "messages": [{"role": "system", "content": "x"}]}',
            'message 1 needs a role "user" or "assistant"',
        ),
    ],
)
def test_import_refuses_what_is_not_an_export(text: str, says: str) -> None:
    with pytest.raises(conversations.BadExport, match=re.escape(says)):
        conversations.read_export(text)


def test_an_import_is_written_as_the_node_that_ends_a_turn() -> None:
    graph = {
        "edges": [
            {"source": "__start__", "target": "model"},
            {"source": "model", "target": "remember"},
            {"source": "remember", "target": "__end__"},
        ]
    }
    node = conversations.final_node(graph)
    assert node == "remember"
    request = conversations.import_request("T", None, [{"role": "user", "content": "x"}], "g", node)
    assert request["supersteps"][0]["updates"][0]["as_node"] == "remember"
    assert request["metadata"] == {"graph_id": "g", "title": "T"}
    with pytest.raises(ValueError, match="not one"):
        conversations.final_node({"edges": []})


def test_the_cli_reads_older_history_pages_until_the_fork_point_turns_up() -> None:
    history = [_state(f"c{n}", f"c{n - 1}", *(f"m{k}" for k in range(n))) for n in range(45, 0, -1)]
    asked: list[Any] = []

    class Threads:
        def get_history(self, thread_id: str, limit: int, before: Any = None) -> list[Any]:
            asked.append(before)
            start = 0
            if before:
                wanted = before["configurable"]["checkpoint_id"]
                start = next(
                    i for i, s in enumerate(history) if s["checkpoint"]["checkpoint_id"] == wanted
                )
                start += 1
            return history[start : start + limit]

    class Client:
        threads = Threads()

    # m2 first appears in c3 (third oldest): two pages of 20 come first.
    assert cli._fork_point(Client(), "t", "m2") == {"checkpoint_id": "c2"}  # type: ignore[arg-type]
    assert len(asked) == 3 and asked[0] is None
    assert cli._fork_point(Client(), "t", "m0") is None  # its parent, c0, is not kept


@pytest.mark.parametrize(
    ("values", "pending", "status"),
    [
        ({}, None, "automatic: the language you write"),
        (None, None, "automatic: the language you write"),
        ({"reply_language": "Korean"}, None, "Korean (detected)"),
        ({"language": "", "reply_language": "Korean"}, None, "Korean (detected)"),
        ({"language": "auto", "reply_language": "French"}, None, "French (detected)"),
        ({"language": "Spanish", "reply_language": "Spanish"}, None, "Spanish (set)"),
        ({"language": "Spanish"}, "German", "German (set; from your next message)"),
        (
            {"language": "Spanish"},
            "",
            "automatic: the language you write (from your next message)",
        ),
        ({"language": 42, "reply_language": ["x"]}, None, "automatic: the language you write"),
    ],
)
def test_language_status_says_which_language_and_whether_set_or_detected(
    values: Any, pending: str | None, status: str
) -> None:
    assert cli.language_status(values, pending) == status


@pytest.mark.parametrize(
    ("typed", "sent"),
    [(None, None), ("Spanish", "Spanish"), (" Korean ", "Korean"), ("auto", ""), ("AUTO", "")],
)
def test_lang_choices_become_the_language_sent(typed: str | None, sent: str | None) -> None:
    assert cli._pending(typed) == sent
    run_input = cli._user("Hi", sent)
    if sent is None:
        assert "language" not in run_input
    else:
        assert run_input["language"] == sent
