"""The ``chatbot`` command driven as a user would: piped stdin and a real terminal."""

from __future__ import annotations

import re

import pexpect
from langgraph_sdk.client import LangGraphClient

from agent.models.local.launcher import free_port
from agent.testing.dev_server import CHATBOT_CLI, DevServer

from .helpers import chatbot

THREAD_LINE = re.compile(r"thread ([0-9a-f-]{36})")
STYLE = r"(?:\x1b\[[0-9;]*m)*"  # rich styles the prompts in a terminal
YOU_PROMPT = f"you>{STYLE} "
BOT_PROMPT = f"bot>{STYLE} "


def bot_replies(output: str) -> list[str]:
    return [line.split("bot>", 1)[1].strip() for line in output.splitlines() if "bot>" in line]


async def test_chat_two_turns_then_list_resume_history_and_delete(
    dev_server: DevServer, client: LangGraphClient
) -> None:
    first = chatbot(dev_server.url, "chat", stdin="Hi! I'm Bob\nWhat's my name?\n")
    assert first.returncode == 0, first.stderr
    match = THREAD_LINE.search(first.stdout)
    assert match, first.stdout
    thread_id = match.group(1)
    replies = bot_replies(first.stdout)
    assert len(replies) == 2 and all(replies), first.stdout
    assert "bob" in replies[1].lower(), first.stdout

    # Another thread whose first words are long must not squeeze the ids out of shape.
    other = (await client.threads.create())["thread_id"]
    await client.runs.wait(
        other, "chatbot", input={"messages": [{"role": "user", "content": "word " * 30}]}
    )
    listed = chatbot(dev_server.url, "threads")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if thread_id in line)
    assert "Hi! I'm Bob" in row

    resumed = chatbot(
        dev_server.url, "chat", "--thread", thread_id, stdin="What is the capital of France?\n"
    )
    assert resumed.returncode == 0, resumed.stderr
    assert thread_id in resumed.stdout
    assert "paris" in bot_replies(resumed.stdout)[0].lower(), resumed.stdout
    state = await client.threads.get_state(thread_id)
    messages = state["values"]["messages"]
    assert [m["type"] for m in messages] == ["human", "ai"] * 3
    assert [m["content"] for m in messages[::2]] == [
        "Hi! I'm Bob",
        "What's my name?",
        "What is the capital of France?",
    ]

    shown = chatbot(dev_server.url, "history", thread_id)
    assert shown.returncode == 0, shown.stderr
    lines = [line for line in shown.stdout.splitlines() if line.startswith(("you>", "bot>"))]
    assert lines[0] == "you> Hi! I'm Bob"
    assert [line.split(">")[0] for line in lines] == ["you", "bot"] * 3

    refused = chatbot(dev_server.url, "delete", thread_id)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    deleted = chatbot(dev_server.url, "delete", thread_id, "--yes")
    assert deleted.returncode == 0, deleted.stderr
    gone = chatbot(dev_server.url, "history", thread_id)
    assert gone.returncode == 1
    assert "Not found" in gone.stderr


def test_chat_in_a_terminal_streams_and_sets_language(dev_server: DevServer) -> None:
    session = pexpect.spawn(
        str(CHATBOT_CLI),
        ["--url", dev_server.url, "chat", "--language", "English"],
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 200),
    )
    try:
        session.expect(r"thread ([0-9a-f-]{36})")
        session.expect(YOU_PROMPT)
        session.sendline("What is the capital of France?")
        session.expect(BOT_PROMPT)
        session.expect(YOU_PROMPT)
        assert "Paris" in session.before
        session.sendline("/lang Spanish")
        session.expect("reply language: Spanish")
        session.sendeof()
        session.expect(pexpect.EOF)
    finally:
        session.close(force=True)
    assert session.exitstatus == 0


def test_unreachable_server_gets_one_clear_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = chatbot(url, "threads")
    assert result.returncode == 1
    assert f"Cannot reach the chatbot server at {url}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_finds_the_server_started_in_its_directory(dev_server: DevServer) -> None:
    announced = (dev_server.workdir / ".langgraph_api" / "chatbot-url").read_text().strip()
    assert announced == dev_server.url

    found = chatbot(None, "threads", cwd=dev_server.workdir)
    assert found.returncode == 0, found.stderr
    header = found.stdout.splitlines()[0].split()
    assert header == ["thread", "updated", "title", "or", "first", "words"]
