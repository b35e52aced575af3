"""``chatbot``: chat with the deployed graph from a terminal, through the LangGraph SDK."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

import httpx
import typer
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import SyncLangGraphClient
from rich.console import Console
from rich.table import Table

from agent import settings
from agent.server.discovery import discovered_url
from agent.server.tokens import DEFAULT_EXPIRES_IN, SECRET_ENV, auth_secret, create_token

GRAPH_ID = "chatbot"
"""The graph id declared in ``langgraph.json`` (also its default assistant)."""

DEFAULT_URL = "http://127.0.0.1:2024"

app = typer.Typer(help="Chat with the chatbot server.", no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


class Options:
    """Options shared by every command."""

    url: str = DEFAULT_URL


options = Options()


@app.callback()
def main(
    url: Annotated[
        str | None,
        typer.Option(
            help="URL of the LangGraph server. Default: the server started from this "
            f"directory (make dev), else {DEFAULT_URL}.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Talk to a chatbot served by `langgraph dev` or the LangGraph server."""
    options.url = (url or settings.CLIENT_URL.get() or discovered_url() or DEFAULT_URL).rstrip("/")


def _client() -> SyncLangGraphClient:
    token = settings.CLIENT_TOKEN.get()
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return get_sync_client(url=options.url, api_key=None, headers=headers)


@contextmanager
def _server_errors() -> Iterator[None]:
    """Turn connection and HTTP failures into one clear line and exit code 1."""
    try:
        yield
    except httpx.TransportError as error:
        errors.print(
            f"[red]Cannot reach the chatbot server at {options.url}[/red] "
            f"({type(error).__name__}). "
            "Start it with `make dev`, or pass --url / set CHATBOT_URL."
        )
        raise typer.Exit(1) from None
    except httpx.HTTPStatusError as error:
        status = error.response.status_code
        if status == 404:
            errors.print(f"[red]Not found:[/red] {error.request.url.path}. Check the thread id.")
        elif status == 401:
            errors.print(
                f"[red]The server wants a valid token:[/red] {error.response.text} "
                "Set CHATBOT_TOKEN (from `chatbot token create <user>` on the server)."
            )
        else:
            errors.print(f"[red]The server answered {status}:[/red] {error.response.text}")
        raise typer.Exit(1) from None


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _speaker(message: dict[str, Any]) -> str:
    kind = str(message.get("type", "?"))
    return {"human": "you", "ai": "bot"}.get(kind, kind)


def _stream_reply(
    client: SyncLangGraphClient, thread_id: str, text: str, language: str | None
) -> None:
    payload: dict[str, Any] = {"messages": [{"role": "user", "content": text}]}
    if language:
        payload["language"] = language
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
        input=payload,
        stream_mode="messages-tuple",
        multitask_strategy="enqueue",
    ):
        if part.event == "messages":
            chunk, metadata = part.data
            if (
                chunk.get("type") in ("AIMessageChunk", "ai")
                and metadata.get("langgraph_node", "model") == "model"
            ):
                console.print(_text(chunk.get("content")), end="", markup=False)
        elif part.event == "error":
            console.print()
            detail = part.data.get("message") if isinstance(part.data, dict) else None
            errors.print(f"[red]The reply failed:[/red] {detail or part.data}")
            return
    console.print()


@app.command()
def chat(
    thread: Annotated[
        str | None, typer.Option("--thread", "-t", help="Resume this thread id.")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", "-l", help="Reply language, e.g. Spanish.")
    ] = None,
) -> None:
    """Chat interactively; replies stream in as they are generated.

    Type /exit (or Ctrl-D) to leave, /lang NAME to change the reply language,
    /new to start a fresh thread.
    """
    client = _client()
    with _server_errors():
        if thread:
            client.threads.get(thread)
            thread_id = thread
        else:
            thread_id = client.threads.create(graph_id=GRAPH_ID)["thread_id"]
        console.print(
            f"[dim]thread {thread_id}  (resume with: chatbot chat --thread {thread_id})[/dim]"
        )
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
                continue
            if text.startswith("/lang"):
                language = text.removeprefix("/lang").strip() or None
                console.print(f"[dim]reply language: {language or 'unchanged'}[/dim]")
                continue
            _stream_reply(client, thread_id, text, language)
            language = None  # stored in the thread now; later turns keep it


@app.command()
def threads(
    limit: Annotated[int, typer.Option(help="How many threads to list.")] = 20,
) -> None:
    """List conversations, most recently updated first."""
    with _server_errors():
        found = _client().threads.search(limit=limit, sort_by="updated_at", sort_order="desc")
    # The id must survive a narrow (or piped, 80-column) terminal whole: it is what
    # `chat --thread` and `history` take. The first words give way instead.
    table = Table(box=None)
    table.add_column("thread", no_wrap=True, min_width=36)
    table.add_column("updated", no_wrap=True, min_width=19)
    table.add_column("first words", no_wrap=True, overflow="ellipsis")
    for item in found:
        values = item.get("values") or {}
        messages = values.get("messages", []) if isinstance(values, dict) else []
        first = _text(messages[0].get("content")) if messages else ""
        updated = item["updated_at"]
        when = updated if isinstance(updated, str) else datetime.isoformat(updated)
        table.add_row(item["thread_id"], when[:19].replace("T", " "), first[:50])
    console.print(table)


@app.command()
def history(thread: Annotated[str, typer.Argument(help="Thread id.")]) -> None:
    """Print one conversation."""
    with _server_errors():
        state = _client().threads.get_state(thread)
    values = state["values"]
    messages = values.get("messages", []) if isinstance(values, dict) else []
    if isinstance(values, dict) and values.get("language"):
        console.print(f"[dim]language: {values['language']}[/dim]")
    for message in messages:
        console.print(f"[bold]{_speaker(message)}>[/bold] ", end="")
        console.print(_text(message.get("content")), markup=False)


@app.command()
def delete(
    thread: Annotated[str, typer.Argument(help="Thread id.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to confirm.")] = False,
) -> None:
    """Delete a conversation for good."""
    if not yes:
        if not sys.stdin.isatty():
            errors.print("Refusing to delete without confirmation: pass --yes.")
            raise typer.Exit(2)
        typer.confirm(f"Delete thread {thread}?", abort=True)
    with _server_errors():
        _client().threads.delete(thread)
    console.print(f"deleted {thread}")


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
