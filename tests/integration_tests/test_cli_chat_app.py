"""The ``chatbot`` command as a chat app: stop, retry, edit, export, import, rename, search.

Against a real ``langgraph dev`` with the scripted model, so replies and their pace are
the test's; chat runs in a pseudo-terminal, as a user types it (Ctrl-C is a real SIGINT).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import SyncLangGraphClient

from agent.server.tokens import create_token
from agent.testing import scripted_model
from agent.testing.dev_server import (
    CHATBOT_CLI,
    DevServer,
    dev_server_with_scripted_model,
)
from agent.testing.turns import GRAPH_ID, user

THREAD_LINE = re.compile(r"thread ([0-9a-f-]{36})")
STYLE = r"(?:\x1b\[[0-9;]*m)*"
YOU_PROMPT = f"you>{STYLE} "
SECRET = "cli-chat-app-test-secret-that-is-long-enough"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """A dev server with the scripted model (memory off, as every test server's default)."""
    with dev_server_with_scripted_model(tmp_path_factory.mktemp("cli-app")) as (running, _):
        yield running


@pytest.fixture
def sdk(server: DevServer) -> Iterator[SyncLangGraphClient]:
    scripted_model.settings.reset()
    client = get_sync_client(url=server.url, api_key=None)
    try:
        yield client
    finally:
        scripted_model.settings.reset()


def run_cli(url: str, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``chatbot`` with piped input, as a script would (CHATBOT_TOKEN when given)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    if token:
        env["CHATBOT_TOKEN"] = token
    return subprocess.run(
        [str(CHATBOT_CLI), "--url", url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def terminal(url: str, *args: str) -> pexpect.spawn:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    return pexpect.spawn(
        str(CHATBOT_CLI),
        ["--url", url, "chat", *args],
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 200),
        env=env,
    )


def exchange(session: pexpect.spawn, line: str, shown: str) -> None:
    """Type ``line``, wait until the text ``shown`` appears, then for the next prompt."""
    session.sendline(line)
    session.expect(re.escape(shown))
    session.expect(YOU_PROMPT)


def texts(sdk: SyncLangGraphClient, thread: str) -> list[str]:
    values: Any = sdk.threads.get_state(thread)["values"]
    return [str(m["content"]) for m in values["messages"]]


def test_ctrl_c_stops_the_reply_on_the_server_and_a_second_one_leaves(
    server: DevServer, sdk: SyncLangGraphClient
) -> None:
    scripted_model.settings.word_delay_s = 0.3
    scripted_model.settings.replies = ["Once upon a time " + "word " * 60, "Short answer."]
    session = terminal(server.url)
    try:
        session.expect(THREAD_LINE)
        thread = session.match.group(1)
        session.expect(YOU_PROMPT)
        session.sendline("Tell me a long story")
        session.expect("Once upon")  # the reply is streaming
        session.sendintr()
        session.expect("Stopped.")
        session.expect(YOU_PROMPT)

        runs = sdk.runs.list(thread)
        assert [run["status"] for run in runs] == ["interrupted"], runs
        assert texts(sdk, thread) == ["Tell me a long story"], "no half reply was kept"
        assert sdk.threads.get(thread)["status"] == "interrupted"

        # /retry answers the message that was left without a reply.
        scripted_model.settings.word_delay_s = 0
        exchange(session, "/retry", "Short answer.")
        assert texts(sdk, thread) == ["Tell me a long story", "Short answer."]

        session.sendintr()  # at the prompt: leave
        session.expect(pexpect.EOF)
    finally:
        session.close(force=True)
    assert session.exitstatus == 0


def test_retry_writes_the_last_reply_again_and_edit_changes_the_last_message(
    server: DevServer, sdk: SyncLangGraphClient
) -> None:
    scripted_model.settings.replies = ["Hello Bob!", "4.", "Four, again.", "6.", "8."]
    session = terminal(server.url)
    try:
        session.expect(THREAD_LINE)
        thread = session.match.group(1)
        for text, reply in [("Hi! I'm Bob", "Hello Bob!"), ("What is 2+2?", "4.")]:
            session.expect(YOU_PROMPT)
            session.sendline(text)
            session.expect(re.escape(reply))
        session.expect(YOU_PROMPT)
        exchange(session, "/retry", "Four, again.")
        assert texts(sdk, thread) == ["Hi! I'm Bob", "Hello Bob!", "What is 2+2?", "Four, again."]

        # /edit alone offers the last message, already typed, to change.
        session.sendline("/edit")
        session.expect("edit> What is 2\\+2\\?")
        session.send("\x15")  # Ctrl-U: clear the line
        exchange(session, "What is 3+3?", "6.")
        assert texts(sdk, thread) == ["Hi! I'm Bob", "Hello Bob!", "What is 3+3?", "6."]

        exchange(session, "/edit What is 4+4?", "8.")
        session.sendeof()
        session.expect(pexpect.EOF)
    finally:
        session.close(force=True)
    assert texts(sdk, thread) == ["Hi! I'm Bob", "Hello Bob!", "What is 4+4?", "8."]
    # The replaced turns are still branches of the thread, as the page's switcher shows them.
    history: list[Any] = sdk.threads.get_history(thread, limit=1000)
    seen = {str(m["content"]) for state in history for m in state["values"].get("messages", [])}
    assert {"4.", "Four, again.", "What is 2+2?", "What is 3+3?", "6."} <= seen


def test_lang_shows_sets_and_clears_the_reply_language(
    server: DevServer, sdk: SyncLangGraphClient
) -> None:
    # The scripted model detects nothing: the graph detects the user's language itself.
    scripted_model.settings.replies = ["반가워요.", "De nada.", "Volontiers."]
    session = terminal(server.url)
    try:
        session.expect(THREAD_LINE)
        thread = session.match.group(1)
        session.expect("reply language: automatic: the language you write")
        session.expect(YOU_PROMPT)
        exchange(
            session,
            "안녕하세요, 저는 도하린이라고 해요. 여수에 살아요.",
            "reply language: Korean (detected)",
        )
        values: Any = sdk.threads.get_state(thread)["values"]
        assert "language" not in values and values["reply_language"] == "Korean"

        exchange(session, "/lang", "reply language: Korean (detected)")
        exchange(session, "/lang Spanish", "reply language: Spanish (set; from your next message)")
        exchange(session, "Thank you so much for the help!", "reply language: Spanish (set)")
        values = sdk.threads.get_state(thread)["values"]
        assert (values["language"], values["reply_language"]) == ("Spanish", "Spanish")

        exchange(
            session, "/lang auto", "automatic: the language you write (from your next message)"
        )
        exchange(
            session,
            "Je voudrais un café crème, s'il vous plaît.",
            "reply language: French (detected)",
        )
        values = sdk.threads.get_state(thread)["values"]
        assert (values["language"], values["reply_language"]) == ("", "French")
        session.sendeof()
        session.expect(pexpect.EOF)
    finally:
        session.close(force=True)
    assert session.exitstatus == 0

    # Resumed, the header says it before anything is sent.
    resumed = terminal(server.url, "--thread", thread)
    try:
        resumed.expect(re.escape("reply language: French (detected)"))
        resumed.expect(YOU_PROMPT)
        resumed.sendeof()
        resumed.expect(pexpect.EOF)
    finally:
        resumed.close(force=True)


def test_export_both_formats_import_rename_and_search(
    server: DevServer, sdk: SyncLangGraphClient, tmp_path: Path
) -> None:
    scripted_model.settings.replies = ["Here is code:\n\n```python\nprint('hi')\n```", "Done."]
    thread = sdk.threads.create()["thread_id"]
    sdk.runs.wait(thread, GRAPH_ID, input={**user("Show me pelican code"), "language": "French"})
    sdk.runs.wait(thread, GRAPH_ID, input=user("Thanks"))

    exported = tmp_path / "chat.json"
    result = run_cli(server.url, "export", thread, "--format", "json", "-o", str(exported))
    assert result.returncode == 0, result.stderr
    data = json.loads(exported.read_text())
    assert data["format"] == "chatbot-conversation" and data["language"] == "French"
    assert data["messages"] == [
        {"role": "user", "content": "Show me pelican code"},
        {"role": "assistant", "content": "Here is code:\n\n```python\nprint('hi')\n```"},
        {"role": "user", "content": "Thanks"},
        {"role": "assistant", "content": "Done."},
    ]
    markdown = run_cli(server.url, "export", thread, "--format", "md")
    assert markdown.returncode == 0, markdown.stderr
    assert markdown.stdout.startswith("# Show me pelican code\n")
    assert "**You:**\n\nShow me pelican code\n" in markdown.stdout
    assert "**Bot:**\n\nHere is code:\n\n```python\nprint('hi')\n```\n" in markdown.stdout

    requests_before = scripted_model.settings.requests
    imported = run_cli(server.url, "import", str(exported))
    assert imported.returncode == 0, imported.stderr
    match = THREAD_LINE.search(imported.stdout)
    assert match and "imported 4 messages" in imported.stdout, imported.stdout
    copy = match.group(1)
    assert copy != thread
    assert scripted_model.settings.requests == requests_before, "the model was not called"
    assert texts(sdk, copy) == texts(sdk, thread)
    copy_state: Any = sdk.threads.get_state(copy)
    assert copy_state["values"]["language"] == "French" and copy_state["next"] == []
    again = tmp_path / "again.json"
    assert run_cli(server.url, "export", copy, "-f", "json", "-o", str(again)).returncode == 0
    assert json.loads(again.read_text())["messages"] == data["messages"]

    renamed = run_cli(server.url, "rename", copy, "Pelican snippets")
    assert renamed.returncode == 0, renamed.stderr
    metadata: Any = sdk.threads.get(copy)["metadata"]
    assert metadata["title"] == "Pelican snippets"

    by_title = run_cli(server.url, "threads", "--search", "pelican SNIPPETS")
    assert by_title.returncode == 0, by_title.stderr
    assert copy in by_title.stdout and thread not in by_title.stdout
    by_words = run_cli(server.url, "threads", "--search", "print('hi')")
    assert copy in by_words.stdout and thread in by_words.stdout, by_words.stdout
    nothing = run_cli(server.url, "threads", "--search", "zebra")
    assert nothing.returncode == 0 and thread not in nothing.stdout
    assert "No conversation matches 'zebra'" in nothing.stderr

    broken = tmp_path / "broken.json"
    broken.write_text('{"messages": []}')
    refused = run_cli(server.url, "import", str(broken))
    assert refused.returncode == 2 and "not a conversation export" in refused.stderr


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    workdir = tmp_path_factory.mktemp("cli-app-auth")
    with dev_server_with_scripted_model(workdir, CHATBOT_AUTH_SECRET=SECRET) as (running, _url):
        yield running


def test_with_auth_on_each_user_imports_renames_and_searches_only_their_own(
    auth_server: DevServer, tmp_path: Path
) -> None:
    alice, bob = create_token("alice", SECRET), create_token("bob", SECRET)
    export = tmp_path / "export.json"
    export.write_text(
        json.dumps(
            {
                "format": "chatbot-conversation",
                "version": 1,
                "title": "Alpaca plans",
                "messages": [
                    {"role": "user", "content": "Alpacas hum"},
                    {"role": "assistant", "content": "They do."},
                ],
            }
        )
    )
    imported = run_cli(auth_server.url, "import", str(export), token=alice)
    assert imported.returncode == 0, imported.stderr
    match = THREAD_LINE.search(imported.stdout)
    assert match, imported.stdout
    thread = match.group(1)

    assert run_cli(auth_server.url, "rename", thread, "Llamas", token=bob).returncode == 1
    renamed = run_cli(auth_server.url, "rename", thread, "Alpaca notes", token=alice)
    assert renamed.returncode == 0, renamed.stderr
    headers = {"Authorization": f"Bearer {alice}"}
    owned = get_sync_client(url=auth_server.url, api_key=None, headers=headers).threads.get(thread)
    metadata: Any = owned["metadata"]
    assert metadata["title"] == "Alpaca notes"
    assert metadata["owner"] == "alice", "renaming kept the owner"

    assert thread in run_cli(auth_server.url, "threads", "-s", "alpacas", token=alice).stdout
    assert thread not in run_cli(auth_server.url, "threads", "-s", "alpacas", token=bob).stdout
    refused = run_cli(auth_server.url, "export", thread, "--format", "json", token=bob)
    assert refused.returncode == 1 and "Not found" in refused.stderr
