"""The `chatbot` command itself: its app, its consoles, and how it reaches the server.

Every command module (``cli``, ``memory``) registers on :data:`app` and talks to
the server through :func:`connect`, so none of them imports another.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import httpx
import typer
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import SyncLangGraphClient
from rich.console import Console

from agent import settings
from agent.server.discovery import discovered_url

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


def connect() -> SyncLangGraphClient:
    """Return an SDK client of the server, with the token when one is set."""
    token = settings.CLIENT_TOKEN.get()
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return get_sync_client(url=options.url, api_key=None, headers=headers)


def _detail(response: httpx.Response) -> str:
    """Return what an error answer says: its JSON ``detail`` when it has one, else its text."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return detail if isinstance(detail, str) else response.text


@contextmanager
def server_errors() -> Iterator[None]:
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
            errors.print(f"[red]The server answered {status}:[/red] ", end="")
            errors.print(_detail(error.response), markup=False)
        raise typer.Exit(1) from None
