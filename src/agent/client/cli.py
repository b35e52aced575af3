"""``chatbot``: chat with the deployed graph from a terminal, through the LangGraph SDK."""

from __future__ import annotations

import os
import signal
import sys
import time
import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, cast
from urllib.parse import quote

import httpx
import typer
from langgraph_sdk.client import SyncLangGraphClient
from langgraph_sdk.schema import Checkpoint
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from agent import GRAPH_ID
from agent.client import conversations
from agent.client.conversations import fork_point, messages_of, text_of, title_of
from agent.client.memory import current_user, named, remembered  # also registers `chatbot memory`
from agent.client.session import app, connect, console, errors, options, server_errors
from agent.conversation.language import explicit_language, is_auto
from agent.server.tokens import DEFAULT_EXPIRES_IN, SECRET_ENV, auth_secret, create_token

HISTORY_PAGE = 20
"""Checkpoints read at a time to find where an edit or a retry starts (each carries the
whole transcript, and the last turn's are the newest)."""

RUN_TAG_KEY = "chatbot_cli_run"
"""Run metadata that lets Ctrl-C find this client's run before the server has named it."""

CANCEL_SETTLE_S = 10.0
"""How long a stopped reply may take to leave its thread idle."""

SEARCH_ROUTE = "/chatbot/search"
"""The server's search over the caller's conversations (``agent.server.webapp``)."""

SEARCH_HITS = 100
"""Messages ``threads --search`` asks for, to list the conversations they are in."""

TITLE_SCAN = 1000
"""``threads --search`` matches the titles of at most this many of the newest threads."""

TITLE_PAGE = 100
"""Threads read per request while matching titles (metadata only, not their messages)."""

AUTOMATIC = "automatic: the language you write"
"""How a thread without a set language and without a reply yet is described."""

LANGUAGE_FIELDS = ("language", "reply_language")
"""The state values that say which language a thread replies in."""


def _speaker(message: dict[str, Any]) -> str:
    kind = str(message.get("type", "?"))
    return {"human": "you", "ai": "bot"}.get(kind, kind)


def _cancel(client: SyncLangGraphClient, thread_id: str, run_id: str | None, tag: str) -> None:
    """Stop a run on the server (action interrupt: the thread keeps the user's message).

    Without its id (Ctrl-C came before the server's answer), the run is found by the
    ``tag`` this client put in its metadata, never another window's run.
    """
    if run_id is None:
        mine = [
            run
            for run in client.runs.list(thread_id, limit=20)
            if (run.get("metadata") or {}).get(RUN_TAG_KEY) == tag
            and run.get("status") in ("pending", "running")
        ]
        run_id = str(mine[0]["run_id"]) if mine else None
    if run_id is None:
        return
    try:
        client.runs.cancel(thread_id, run_id, wait=True, action="interrupt")
    except httpx.HTTPStatusError as error:
        if error.response.status_code not in (404, 409):  # it had already ended
            raise
    # The run has ended; the thread says so a moment later (until then it reads as busy,
    # with no state), and the next command must see what the stop left.
    deadline = time.monotonic() + CANCEL_SETTLE_S
    while client.threads.get(thread_id).get("status") == "busy" and time.monotonic() < deadline:
        time.sleep(0.1)


def language_status(values: Any, pending: str | None = None) -> str:
    """Describe the language a thread replies in, e.g. "Korean (detected)" or "Spanish (set)".

    Args:
        values: The thread's state values (``language``, ``reply_language``).
        pending: A language (``""`` for automatic) the user chose with ``/lang``
            that goes to the server with their next message.
    """
    if pending is not None:
        chosen = explicit_language(pending)
        return (
            f"{chosen} (set; from your next message)"
            if chosen
            else f"{AUTOMATIC} (from your next message)"
        )
    values = values if isinstance(values, Mapping) else {}
    chosen = explicit_language(_string(values.get("language")))
    if chosen:
        return f"{chosen} (set)"
    replied = explicit_language(_string(values.get("reply_language")))
    return f"{replied} (detected)" if replied else AUTOMATIC


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _language_values(values: Any) -> dict[str, Any]:
    """Keep the language fields of a thread's values (``{}`` for a thread without any)."""
    if not isinstance(values, Mapping):
        return {}
    return {key: values[key] for key in LANGUAGE_FIELDS if key in values}


def _stream_run(
    client: SyncLangGraphClient,
    thread_id: str,
    run_input: dict[str, Any] | None,
    checkpoint: Checkpoint | None = None,
) -> str | None:
    """Stream one reply; Ctrl-C stops it on the server and returns to the prompt.

    Returns the language the reply was asked in (the graph's ``reply_language``), if
    the run reported one.
    """
    run_ids: list[str] = []
    replied: str | None = None
    tag = uuid.uuid4().hex
    try:
        if client.threads.get(thread_id).get("status") == "busy":
            console.print(
                "[yellow]A reply is still being written in this thread (another window?). "
                "Yours is queued and will be answered right after it.[/yellow]"
            )
        console.print("[bold green]bot>[/bold green] ", end="")
        # enqueue: a message sent while another reply is under way waits its turn, so no
        # message is dropped (reject), no reply is cut off (interrupt) or erased (rollback).
        for part in client.runs.stream(
            thread_id,
            GRAPH_ID,
            input=run_input,
            checkpoint=checkpoint,
            stream_mode=["messages-tuple", "updates"],
            multitask_strategy="enqueue",
            metadata={RUN_TAG_KEY: tag},
            on_run_created=lambda created: run_ids.append(str(created["run_id"])),
        ):
            if part.event == "messages":
                chunk, metadata = part.data
                if (
                    chunk.get("type") in ("AIMessageChunk", "ai")
                    and metadata.get("langgraph_node", "model") == "model"
                ):
                    console.print(text_of(chunk.get("content")), end="", markup=False)
            elif part.event == "updates" and isinstance(part.data, dict):
                for update in part.data.values():
                    if isinstance(update, dict):
                        replied = _string(update.get("reply_language")) or replied
            elif part.event == "error":
                console.print()
                detail = part.data.get("message") if isinstance(part.data, dict) else None
                errors.print(f"[red]The reply failed:[/red] {detail or part.data}")
                return replied
    except KeyboardInterrupt:
        console.print()
        _cancel(client, thread_id, run_ids[0] if run_ids else None, tag)
        console.print(
            "[yellow]Stopped.[/yellow] [dim]The thread keeps your message without a reply; "
            "/retry answers it again. Ctrl-C at the prompt leaves.[/dim]"
        )
        return replied
    console.print()
    return replied


def _fork_point(client: SyncLangGraphClient, thread_id: str, message_id: str) -> Checkpoint | None:
    """Find the checkpoint before a message, reading the history a page at a time."""
    history: list[dict[str, Any]] = []
    while True:
        before = history[-1]["checkpoint"]["checkpoint_id"] if history else None
        page: list[Any] = client.threads.get_history(
            thread_id,
            limit=HISTORY_PAGE,
            before=cast(Any, {"configurable": {"checkpoint_id": before}}) if before else None,
        )
        history += page
        point = fork_point(history, message_id)
        if point is not None or len(page) < HISTORY_PAGE:
            return cast(Checkpoint | None, point)


def _last(messages: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    return next((m for m in reversed(messages) if m.get("type") == kind), None)


def _retry(client: SyncLangGraphClient, thread_id: str) -> str | None:
    """Write the last reply again (or answer the last message, if it has no reply).

    Returns the language the new reply was asked in, if any.
    """
    messages = messages_of(client.threads.get_state(thread_id)["values"])
    if not messages:
        console.print("[dim]Nothing to retry yet: say something first.[/dim]")
        return None
    last = messages[-1]
    checkpoint = _fork_point(client, thread_id, str(last.get("id")))
    if checkpoint is None:
        errors.print("[red]That turn is older than the checkpoints this thread keeps.[/red]")
        return None
    if last.get("type") == "ai":  # regenerate: no input, from the checkpoint before the reply
        return _stream_run(client, thread_id, None, checkpoint)
    # a message left without a reply (stopped, or failed): send it again from before it
    return _stream_run(client, thread_id, _user(text_of(last.get("content"))), checkpoint)


def _edit(client: SyncLangGraphClient, thread_id: str, text: str) -> str | None:
    """Replace the last message with ``text`` (asked for, prefilled, when empty) and answer it.

    Returns the language the new reply was asked in, if any.
    """
    mine = _last(messages_of(client.threads.get_state(thread_id)["values"]), "human")
    if mine is None:
        console.print("[dim]Nothing to edit yet: say something first.[/dim]")
        return None
    if not text:
        text = _ask_prefilled("edit> ", text_of(mine.get("content"))).strip()
        if not text:
            console.print("[dim]Edit cancelled.[/dim]")
            return None
    checkpoint = _fork_point(client, thread_id, str(mine.get("id")))
    if checkpoint is None:
        errors.print("[red]That message is older than the checkpoints this thread keeps.[/red]")
        return None
    console.print(f"[dim]edited: {text}[/dim]", markup=True, highlight=False)
    return _stream_run(client, thread_id, _user(text), checkpoint)


def _ask_prefilled(prompt: str, text: str) -> str:
    """Ask for a line with ``text`` already typed (readline, where the terminal has it)."""
    try:
        import readline
    except ImportError:  # pragma: no cover - no readline on this platform
        return console.input(prompt)
    readline.set_startup_hook(lambda: readline.insert_text(text))
    try:
        return input(prompt)
    except (EOFError, KeyboardInterrupt):
        console.print()
        return ""
    finally:
        readline.set_startup_hook(None)


def _user(text: str, language: str | None = None) -> dict[str, Any]:
    """Build a run input; ``language`` ``""`` clears the thread's language (automatic)."""
    payload: dict[str, Any] = {"messages": [{"role": "user", "content": text}]}
    if language is not None:
        payload["language"] = language
    return payload


def _pending(language: str | None) -> str | None:
    """Return what to send as ``language``: None to leave it, ``""`` for automatic."""
    if language is None:
        return None
    return "" if is_auto(language) else language.strip()


def _show_language(known: Mapping[str, Any], pending: str | None = None) -> str:
    status = language_status(known, pending)
    console.print(f"[dim]reply language: {status}[/dim]", markup=True, highlight=False)
    return status


@app.command()
def chat(
    thread: Annotated[
        str | None, typer.Option("--thread", "-t", help="Resume this thread id.")
    ] = None,
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            "-l",
            help="Reply language, e.g. Spanish; auto: the language you write (the default).",
        ),
    ] = None,
) -> None:
    """Chat interactively; replies stream in as they are generated.

    Ctrl-C stops a reply (on the server too); Ctrl-C at the prompt, /exit or
    Ctrl-D leaves. /retry writes the last reply again, /edit [TEXT] changes your
    last message, /lang shows the reply language, /lang NAME sets it, /lang auto
    goes back to the language you write, /new starts a fresh thread.
    """
    # Ctrl-C is how a user stops a reply: make it raise KeyboardInterrupt even when
    # whatever started this process ignored SIGINT (a background job's children do).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    client = connect()
    pending = _pending(language)
    with server_errors():
        if thread:
            known = _language_values(client.threads.get(thread).get("values"))
            thread_id = thread
        else:
            known = {}
            thread_id = client.threads.create(graph_id=GRAPH_ID)["thread_id"]
        console.print(
            f"[dim]thread {thread_id}  (resume with: chatbot chat --thread {thread_id})[/dim]"
        )
        shown = _show_language(known, pending)
        while True:
            try:
                text = console.input("[bold blue]you>[/bold blue] ")
            except (EOFError, KeyboardInterrupt):
                console.print()
                break
            text = text.strip()
            if not text:
                continue
            if text in ("/exit", "/quit"):
                break
            if text == "/new":
                thread_id = client.threads.create(graph_id=GRAPH_ID)["thread_id"]
                console.print(f"[dim]thread {thread_id}[/dim]")
                known = {}
                shown = _show_language(known, pending)
                continue
            if text == "/lang" or text.startswith("/lang "):
                choice = text.removeprefix("/lang").strip()
                if choice:
                    pending = _pending(choice)
                else:  # read it afresh: another window may have changed it
                    known = _language_values(client.threads.get(thread_id).get("values"))
                shown = _show_language(known, pending)
                continue
            try:
                if text == "/retry":
                    replied = _retry(client, thread_id)
                elif text == "/edit" or text.startswith("/edit "):
                    replied = _edit(client, thread_id, text.removeprefix("/edit").strip())
                else:
                    replied = _stream_run(client, thread_id, _user(text, pending))
                    if pending is not None:  # stored in the thread now; later turns keep it
                        known["language"], pending = pending, None
            except KeyboardInterrupt:  # while stopping or looking up history: back to the prompt
                console.print("\n[dim]interrupted[/dim]")
                continue
            if replied:
                known["reply_language"] = replied
            if language_status(known, pending) != shown:
                shown = _show_language(known, pending)


def _search(client: SyncLangGraphClient, words: str, limit: int) -> list[dict[str, Any]]:
    """Return the caller's newest messages that hold every word, as the server finds them."""
    answer = client.http.get(SEARCH_ROUTE, params={"q": words, "limit": str(limit)})
    return [dict(hit) for hit in cast(dict[str, Any], answer)["hits"]]


def _newest(client: SyncLangGraphClient) -> list[dict[str, Any]]:
    """Return the id, metadata and update time of the newest :data:`TITLE_SCAN` threads at most."""
    found: list[dict[str, Any]] = []
    for offset in range(0, TITLE_SCAN, TITLE_PAGE):
        batch = client.threads.search(
            limit=TITLE_PAGE,
            offset=offset,
            sort_by="updated_at",
            sort_order="desc",
            select=["thread_id", "metadata", "updated_at"],
        )
        found += [dict(t) for t in batch]
        if len(batch) < TITLE_PAGE:
            break
    return found


def _found_threads(client: SyncLangGraphClient, words: str, limit: int) -> list[dict[str, Any]]:
    """Return the threads whose title or a message holds every word, last updated first.

    Messages are searched by the server (``chatbot search``); titles, which it
    does not index, here (of the newest :data:`TITLE_SCAN`), as the chat page
    matches the titles it lists.
    """
    newest = _newest(client)
    ids = dict.fromkeys(hit["thread_id"] for hit in _search(client, words, SEARCH_HITS))
    ids.update(dict.fromkeys(t["thread_id"] for t in newest if conversations.matches(t, words)))
    rank = {t["thread_id"]: place for place, t in enumerate(newest)}
    ordered = sorted(ids, key=lambda thread_id: rank.get(thread_id, len(rank)))
    return [dict(client.threads.get(thread_id)) for thread_id in ordered[:limit]]


@app.command("search")
def search_messages(
    words: Annotated[str, typer.Argument(help="Words the message holds, all of them.")],
    limit: Annotated[int, typer.Option(help="How many messages to show.")] = 20,
) -> None:
    """Find your messages and replies that hold these words, in any language, newest first."""
    with server_errors():
        hits = _search(connect(), words, limit)
    if not hits:
        errors.print(f"No message matches {words!r}.", markup=False)
        return
    table = Table(box=None)
    table.add_column("thread", no_wrap=True, min_width=36)
    table.add_column("when", no_wrap=True, min_width=16)
    table.add_column("who", no_wrap=True)
    table.add_column("snippet", overflow="fold")
    for hit in hits:
        who = "you" if hit["role"] == "user" else "bot"
        # Text objects: a snippet is shown as written, never read as rich markup.
        table.add_row(
            Text(hit["thread_id"]),
            Text(hit["at"][:16].replace("T", " ")),
            who,
            Text(hit["snippet"]),
        )
    console.print(table)
    thread_id, message_id = hits[0]["thread_id"], hits[0]["message_id"]
    link = f"{options.url}/chat/#{quote(thread_id, safe='')}/{quote(message_id, safe='')}"
    console.print(
        "[dim]Open the first at its message: "
        f"chatbot history {escape(thread_id)} --at {escape(message_id)}\n"
        f"or in the page: {escape(link)}[/dim]"
    )


@app.command()
def threads(
    limit: Annotated[int, typer.Option(help="How many threads to list.")] = 20,
    search: Annotated[
        str | None,
        typer.Option(
            "--search",
            "-s",
            help="Only threads whose title, or one of whose messages, holds all these words "
            "(messages searched by the server, as `chatbot search`).",
        ),
    ] = None,
) -> None:
    """List conversations, most recently updated first."""
    with server_errors():
        client = connect()
        if search:
            found: list[Any] = _found_threads(client, search, limit)
        else:
            found = client.threads.search(limit=limit, sort_by="updated_at", sort_order="desc")
    # The id must survive a narrow (or piped, 80-column) terminal whole: it is what
    # `chat --thread` and `history` take. The title (or first words) gives way instead.
    table = Table(box=None)
    table.add_column("thread", no_wrap=True, min_width=36)
    table.add_column("updated", no_wrap=True, min_width=19)
    table.add_column("title or first words", no_wrap=True, overflow="ellipsis")
    for item in found:
        updated = item["updated_at"]
        when = updated if isinstance(updated, str) else datetime.isoformat(updated)
        label = title_of(item) or conversations.first_words(item)
        table.add_row(item["thread_id"], when[:19].replace("T", " "), label)
    console.print(table)
    if search and not found:
        errors.print(f"No conversation matches {search!r}.")


AT_CONTEXT = 2
"""Messages ``history --at`` shows before the one asked for."""


@app.command()
def history(
    thread: Annotated[str, typer.Argument(help="Thread id.")],
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Start a few messages before this message id (one `chatbot search` found) "
            "and mark it.",
        ),
    ] = None,
) -> None:
    """Print one conversation."""
    with server_errors():
        state = connect().threads.get_state(thread)
    values = state["values"]
    messages = messages_of(values)
    ids = [message.get("id") for message in messages]
    if at is not None and at not in ids:
        errors.print(f"Message {at} is not in this conversation's current branch.", markup=False)
        raise typer.Exit(1)
    if _language_values(values):
        console.print(f"[dim]reply language: {language_status(values)}[/dim]")
    start = max(0, ids.index(at) - AT_CONTEXT) if at is not None else 0
    if start:
        console.print(f"[dim]({start} earlier messages)[/dim]")
    for message in messages[start:]:
        mark = "[reverse]>>[/reverse] " if at is not None and message.get("id") == at else ""
        console.print(f"{mark}[bold]{_speaker(message)}>[/bold] ", end="")
        console.print(text_of(message.get("content")), markup=False)


@app.command()
def delete(
    thread: Annotated[str, typer.Argument(help="Thread id.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to confirm.")] = False,
) -> None:
    """Delete a conversation for good, and what the chatbot learnt about you in it."""
    if not yes and not sys.stdin.isatty():
        errors.print("Refusing to delete without confirmation: pass --yes.")
        raise typer.Exit(2)
    with server_errors():
        client = connect()
        facts = remembered(client, current_user(), thread)
        if not yes:
            also = f" It also forgets: {named(facts)}." if facts else ""
            typer.confirm(f"Delete thread {thread}?{also}", abort=True)
        client.threads.delete(thread)
    console.print(f"deleted {thread}", markup=False)
    if facts:
        console.print(f"also forgot: {named(facts)}", markup=False)


class ExportFormat(StrEnum):
    """What ``chatbot export`` writes."""

    md = "md"
    json = "json"


@app.command("export")
def export_thread(
    thread: Annotated[str, typer.Argument(help="Thread id.")],
    format: Annotated[ExportFormat, typer.Option("--format", "-f", help="md or json.")] = (
        ExportFormat.md
    ),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of to stdout.")
    ] = None,
) -> None:
    """Export a conversation as Markdown or JSON (JSON is what `chatbot import` reads)."""
    with server_errors():
        client = connect()
        found = client.threads.get(thread)
        values = client.threads.get_state(thread)["values"]
    render = (
        conversations.export_json
        if format is ExportFormat.json
        else (conversations.export_markdown)
    )
    text = render(found, values)
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    count = len(conversations.exported_messages(messages_of(values)))
    errors.print(f"wrote {count} messages to {output}")


@app.command("import")
def import_thread(
    file: Annotated[Path, typer.Argument(help="A JSON export (chatbot export --format json).")],
) -> None:
    """Import a JSON export as a new conversation (the model is not called)."""
    try:
        title, language, messages = conversations.read_export(file.read_text(encoding="utf-8"))
    except OSError as error:
        errors.print(f"[red]Cannot read {file}:[/red] {error.strerror}")
        raise typer.Exit(2) from None
    except conversations.BadExport as error:
        errors.print(f"[red]Cannot import {file}:[/red] {error}")
        raise typer.Exit(2) from None
    with server_errors():
        client = connect()
        last = conversations.final_node(client.assistants.get_graph(GRAPH_ID))
        created = client.threads.create(
            **conversations.import_request(title, language, messages, GRAPH_ID, last)
        )
    console.print(f"imported {len(messages)} messages as thread {created['thread_id']}")


@app.command()
def rename(
    thread: Annotated[str, typer.Argument(help="Thread id.")],
    title: Annotated[str, typer.Argument(help="The new title.")],
) -> None:
    """Give a conversation a title (kept in the thread's metadata)."""
    title = title.strip()
    if not title:
        errors.print("[red]The title is empty.[/red]")
        raise typer.Exit(2)
    with server_errors():
        connect().threads.update(thread, metadata={"title": title})
    console.print(f"renamed {thread}: {title}", markup=False)


token_app = typer.Typer(help="Bearer tokens for a server with authentication on.")
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Argument(help="User id the token names.")],
    admin: Annotated[
        bool, typer.Option("--admin", help="Let the token create, change and delete assistants.")
    ] = False,
    expires_in: Annotated[
        int, typer.Option("--expires-in", min=1, help="Lifetime in seconds (default 30 days).")
    ] = DEFAULT_EXPIRES_IN,
) -> None:
    """Print a signed token for USER (signed with CHATBOT_AUTH_SECRET)."""
    secret = auth_secret()
    if secret is None:
        errors.print(
            f"[red]{SECRET_ENV} is not set.[/red] Set it to the same secret the server uses, "
            "then run this again."
        )
        raise typer.Exit(2)
    try:
        token = create_token(user, secret, admin=admin, expires_in=expires_in)
    except ValueError as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    console.print(token, markup=False)


if __name__ == "__main__":  # pragma: no cover
    app(prog_name=os.path.basename(sys.argv[0]))
