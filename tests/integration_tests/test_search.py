"""Search over a user's conversations through a real ``langgraph dev``, on SQLite and PostgreSQL.

With auth on (two users, bearer tokens) and the scripted model: a word in
Korean, Japanese or accented Latin finds its message through
``GET /chatbot/search`` and ``chatbot search``; another user's conversations
are never found; a deleted conversation is never found again; a bad query
gets a 422 that says what was wrong. Each test waits for the outcome it
needs (the message found), never for a time.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client

from agent import GRAPH_ID
from agent.client.conversations import import_request
from agent.server.tokens import create_token
from agent.storage.search import MAX_QUERY_CHARS
from agent.testing import scripted_model
from agent.testing.dev_server import CHATBOT_CLI, DevServer, dev_server_with_scripted_model

from .helpers import say, until

SECRET = "search-test-secret-that-is-long-enough"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DevServer]:
    env = {"CHATBOT_AUTH_SECRET": SECRET}
    if request.param == "postgres":
        env["POSTGRES_URI"] = request.getfixturevalue("module_postgres_uri")
    workdir = tmp_path_factory.mktemp(f"search-{request.param}")
    with dev_server_with_scripted_model(workdir, **env) as (running, _url):
        yield running


@pytest.fixture(scope="module")
def module_postgres_uri() -> Iterator[str]:
    from agent.testing.postgres import PostgresUnavailable, fresh_database

    try:
        with fresh_database() as uri:
            yield uri
    except PostgresUnavailable as error:
        pytest.skip(str(error))


@pytest.fixture(autouse=True)
def scripted() -> Iterator[None]:
    scripted_model.settings.reset()
    yield
    scripted_model.settings.reset()


def bearer(user_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(user_id, SECRET)}"}


async def search(server: DevServer, user_id: str, words: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(user_id)) as http:
        answer = await http.get("/chatbot/search", params={"q": words})
        assert answer.status_code == 200, answer.text
        hits: list[dict[str, Any]] = answer.json()["hits"]
        return hits


async def conversation(server: DevServer, user_id: str, *said: str) -> str:
    """Start a conversation as ``user_id``, say each message; return its thread id."""
    async with get_client(url=server.url, api_key=None, headers=bearer(user_id)) as client:
        thread_id = str((await client.threads.create())["thread_id"])
        for text in said:
            await say(client, thread_id, text)
    return thread_id


async def found_in(server: DevServer, user_id: str, words: str, thread_id: str) -> None:
    """Wait until a search of ``user_id`` finds a message of ``thread_id`` (indexed off the reply)."""

    async def there() -> bool:
        return any(hit["thread_id"] == thread_id for hit in await search(server, user_id, words))

    await until(there, f"{words!r} found in {thread_id}")


async def test_each_script_finds_its_message_and_no_other_users(server: DevServer) -> None:
    scripted_model.settings.replies = ["좋아요!", "素敵ですね。", "Très bien !"]
    alice = await conversation(server, "alice", "우리 고양이 이름은 나비예요", "東京に住んでいます")
    bob = await conversation(server, "bob", "Je m'appelle Hélène, j'aime le nabi 나비 aussi")
    await found_in(server, "alice", "나비", alice)  # two syllables, 예요 attached
    await found_in(server, "bob", "나비", bob)

    hits = await search(server, "alice", "나비")
    assert [hit["thread_id"] for hit in hits] == [alice]
    (hit,) = hits
    assert hit["role"] == "user" and hit["snippet"] == "우리 고양이 이름은 나비예요"
    assert hit["title"] == "우리 고양이 이름은 나비예요" and hit["message_id"]
    assert [h["thread_id"] for h in await search(server, "alice", "東京")] == [alice]
    assert [h["snippet"] for h in await search(server, "alice", "素敵")] == ["素敵ですね。"]
    assert [h["thread_id"] for h in await search(server, "bob", "HÉLÈNE")] == [bob]
    assert await search(server, "alice", "Hélène") == []
    assert await search(server, "carol", "나비") == []
    async with httpx.AsyncClient(base_url=server.url) as http:
        refused = await http.get("/chatbot/search", params={"q": "나비"})
    assert refused.status_code == 401


async def test_a_deleted_conversation_is_never_found_again(server: DevServer) -> None:
    scripted_model.settings.replies = ["わかりました。", "Noted."]
    gone = await conversation(server, "dana", "秘密の日記：火曜日に大阪へ行く")
    kept = await conversation(server, "dana", "普通の日記：大阪は晴れ")
    await found_in(server, "dana", "大阪", gone)
    await found_in(server, "dana", "大阪", kept)
    async with get_client(url=server.url, api_key=None, headers=bearer("dana")) as client:
        await client.threads.delete(gone)
    assert [hit["thread_id"] for hit in await search(server, "dana", "日記")] == [kept]
    assert await search(server, "dana", "秘密") == []


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({}, "empty"),
        ({"q": "   "}, "empty"),
        ({"q": "가" * (MAX_QUERY_CHARS + 1)}, f"the most is {MAX_QUERY_CHARS}"),
        ({"q": "a\x00b"}, "control characters"),
        ({"q": "서울", "limit": "0"}, "limit must be a whole number"),
        ({"q": "서울", "limit": "lots"}, "limit must be a whole number"),
    ],
)
async def test_a_bad_query_gets_a_422_that_says_what_was_wrong(
    server: DevServer, params: dict[str, str], says: str
) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers=bearer("erin")) as http:
        answer = await http.get("/chatbot/search", params=params)
    assert answer.status_code == 422
    assert says in answer.json()["detail"]


async def test_the_command_line_searches_through_the_server(
    server: DevServer, tmp_path: Path
) -> None:
    scripted_model.settings.replies = ["Bonne idée : la crème brûlée."]
    thread_id = await conversation(server, "frank", "Une recette de dessert, s'il te plaît")
    await found_in(server, "frank", "brûlée", thread_id)
    env = {**os.environ, "CHATBOT_TOKEN": create_token("frank", SECRET)}
    env.pop("CHATBOT_URL", None)

    def chatbot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CHATBOT_CLI), "--url", server.url, *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env={**env, "COLUMNS": "200"},
        )

    found = chatbot("search", "CRÈME brûlée")
    assert found.returncode == 0, found.stderr
    assert thread_id in found.stdout and "la crème brûlée" in found.stdout
    (hit,) = await search(server, "frank", "brûlée")
    assert f"chatbot history {thread_id} --at {hit['message_id']}" in found.stdout
    assert f"{server.url}/chat/#{thread_id}/{hit['message_id']}" in found.stdout
    opened = chatbot("history", thread_id, "--at", hit["message_id"])
    assert opened.returncode == 0, opened.stderr
    assert ">> bot> Bonne idée : la crème brûlée." in opened.stdout
    assert "you> Une recette de dessert" in opened.stdout  # the message before it, for context
    elsewhere = chatbot("history", thread_id, "--at", "no-such-message")
    assert elsewhere.returncode == 1 and "not in this conversation" in elsewhere.stderr
    listed = chatbot("threads", "--search", "crème")
    assert listed.returncode == 0, listed.stderr
    assert thread_id in listed.stdout
    nothing = chatbot("search", "zabaglione")
    assert nothing.returncode == 0 and "No message matches" in nothing.stderr
    too_long = chatbot("search", "x" * (MAX_QUERY_CHARS + 1))
    assert too_long.returncode == 1 and f"the most is {MAX_QUERY_CHARS}" in too_long.stderr


async def test_an_imported_edited_or_copied_conversation_is_found_as_soon_as_it_is_written(
    server: DevServer,
) -> None:
    """No reply runs for these writes, so no chore indexes them: the write itself must."""
    messages = [
        {"role": "user", "content": "제주 올레길 7코스를 걸었어요"},
        {"role": "assistant", "content": "Schöne Wanderung über die Klippen von Jeju!"},
    ]
    async with get_client(url=server.url, api_key=None, headers=bearer("hana")) as client:
        imported = str(
            (
                await client.threads.create(
                    **import_request("Jeju", None, messages, GRAPH_ID, "model")
                )
            )["thread_id"]
        )
        # No waiting: the answer to the import comes once the thread is searchable.
        assert [h["thread_id"] for h in await search(server, "hana", "올레길")] == [imported]
        assert [h["thread_id"] for h in await search(server, "hana", "KLIPPEN")] == [imported]
        assert await search(server, "ivan", "올레길") == [], "only the owner finds it"

        await client.threads.update_state(
            imported, {"messages": [{"role": "user", "content": "島の名前は済州です"}]}
        )
        assert [h["thread_id"] for h in await search(server, "hana", "済州")] == [imported]

        copy = str((await client.threads.copy(imported))["thread_id"])
        found = {h["thread_id"] for h in await search(server, "hana", "済州")}
        assert found == {imported, copy}
    async with get_client(url=server.url, api_key=None, headers=bearer("ivan")) as other:
        with pytest.raises(httpx.HTTPStatusError):
            await other.threads.update_state(
                imported, {"messages": [{"role": "user", "content": "Quimperlé et Ploërmel"}]}
            )
    assert await search(server, "ivan", "Ploërmel") == []
    assert await search(server, "hana", "Ploërmel") == [], "a refused write indexes nothing"


async def test_conversations_the_index_lacks_are_indexed_when_the_server_starts(
    tmp_path: Path,
) -> None:
    """As after an upgrade: the conversation is stored, the index has no row of it."""
    scripted_model.settings.replies = ["Hyvä valinta!"]
    with dev_server_with_scripted_model(tmp_path, CHATBOT_AUTH_SECRET=SECRET) as (server, _url):
        thread_id = await conversation(server, "gus", "Muutan syksyllä Jyväskylään")
        await found_in(server, "gus", "jyväskylä", thread_id)
        server.stop()
        database = tmp_path / ".chatbot" / "checkpoints.sqlite"
        with sqlite3.connect(database) as db:
            db.execute("DELETE FROM search_messages")
        server.start()
        await found_in(server, "gus", "JYVÄSKYLÄ", thread_id)
        assert await search(server, "someone", "Jyväskylä") == []
