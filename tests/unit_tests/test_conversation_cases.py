"""The CLI's conversations.py and the page's conversation.js pass the same cases.

``tests/fixtures/conversation_cases.json`` holds them as data; this file runs them
against ``agent.client.conversations``, and launches ``tests/js/conversation_cases.test.mjs``
(Node's own test runner) for ``server/web/static/conversation.js``. A change to one
implementation that the other does not share fails here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from agent.client import conversations

TESTS = Path(__file__).resolve().parents[1]
CASES: dict[str, Any] = json.loads(
    (TESTS / "fixtures" / "conversation_cases.json").read_text(encoding="utf-8")
)
NODE_RUNNER = TESTS / "js" / "conversation_cases.test.mjs"


def _why(cases: list[dict[str, Any]]) -> Any:
    return pytest.mark.parametrize("case", cases, ids=[c["why"] for c in cases])


@_why(CASES["text_of"])
def test_text_of(case: dict[str, Any]) -> None:
    assert conversations.text_of(case["content"]) == case["text"]


@_why(CASES["title_of"])
def test_title_of(case: dict[str, Any]) -> None:
    assert conversations.title_of(case["thread"]) == case["title"]


@_why(CASES["first_words"])
def test_first_words(case: dict[str, Any]) -> None:
    limit = case.get("limit", conversations.FIRST_WORDS)
    assert conversations.first_words(case["thread"], limit) == case["words"]


@_why(CASES["fork_point"]["cases"])
def test_fork_point(case: dict[str, Any]) -> None:
    history = CASES["fork_point"]["history"][: case["newest"]]
    assert conversations.fork_point(history, case["message_id"]) == case["checkpoint"]


@_why(CASES["fork_point"]["odd_histories"])
def test_fork_point_in_odd_histories(case: dict[str, Any]) -> None:
    assert conversations.fork_point(case["history"], case["message_id"]) == case["checkpoint"]


@_why(CASES["matches"]["cases"])
def test_matches(case: dict[str, Any]) -> None:
    assert conversations.matches(CASES["matches"]["thread"], case["words"]) is case["matches"]


@_why(CASES["matches"]["untitled"])
def test_matches_untitled(case: dict[str, Any]) -> None:
    assert conversations.matches(case["thread"], case["words"]) is case["matches"]


@_why(CASES["exported_messages"])
def test_exported_messages(case: dict[str, Any]) -> None:
    assert conversations.exported_messages(case["messages"]) == case["exported"]


@_why(CASES["export"])
def test_export(case: dict[str, Any]) -> None:
    when = datetime.fromisoformat(case["exported_at"])
    text = conversations.export_json(case["thread"], case["values"], when)
    # Byte for byte what the page's JSON.stringify(data, null, 2) writes.
    assert text == json.dumps(case["json"], indent=2, ensure_ascii=False) + "\n"
    assert conversations.export_markdown(case["thread"], case["values"]) == case["markdown"]


@_why(CASES["read_export"]["cases"])
def test_read_export(case: dict[str, Any]) -> None:
    if "read" in case:
        title, language, messages = conversations.read_export(case["text"])
        assert {"title": title, "language": language, "messages": messages} == case["read"]
        return
    with pytest.raises(conversations.BadExport) as refused:
        conversations.read_export(case["text"])
    expected: str = CASES["read_export"][case["error"]]
    if case["error"] == "not_json":  # the parser's own words follow, and differ by language
        assert str(refused.value).startswith(expected)
    else:
        assert str(refused.value) == expected.replace("{number}", str(case.get("number")))


@_why(CASES["final_node"])
def test_final_node(case: dict[str, Any]) -> None:
    if "error" not in case:
        assert conversations.final_node(case["graph"]) == case["node"]
        return
    with pytest.raises(ValueError) as refused:
        conversations.final_node(case["graph"])
    assert str(refused.value) == case["error"]


@_why(CASES["import_request"])
def test_import_request(case: dict[str, Any]) -> None:
    request = conversations.import_request(
        case["title"], case["language"], case["messages"], case["graph_id"], case["as_node"]
    )
    assert request == case["request"]


def test_every_section_of_the_cases_is_run_here() -> None:
    run_here = {
        "text_of",
        "title_of",
        "first_words",
        "fork_point",
        "matches",
        "exported_messages",
        "export",
        "read_export",
        "final_node",
        "import_request",
    }
    assert set(CASES) - {"about"} == run_here | {"page_only"}


def test_the_chat_pages_conversation_js_passes_the_same_cases() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: conversation.js cannot be run (Node 20+ runs it)")
    done = subprocess.run(
        [node, "--test", str(NODE_RUNNER)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout
