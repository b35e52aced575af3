"""``chatbot memory``: see and edit what the chatbot remembers about you, across conversations.

The facts are items of the LangGraph store under ``(user_id, "memories")``,
read and deleted through the server's ``/store`` routes, so the CLI, the chat
page and the graph share one memory. The user id is the one the server
knows the caller by: the ``sub`` of ``CHATBOT_TOKEN`` when auth is on, else
the local user.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import jwt
import typer
from langgraph_sdk.client import SyncLangGraphClient
from rich.table import Table

from agent import settings
from agent.client.cli import _client, _server_errors, console, errors
from agent.client.cli import app as chatbot
from agent.memory.facts import KINDS, Fact, namespace

LOCAL_USER = "local"
"""The server's user while auth is off (``agent.server.auth``)."""

memory_app = typer.Typer(
    help="What the chatbot remembers about you across conversations: list, forget.",
    invoke_without_command=True,
)


def current_user() -> str:
    """Return the user id the server will know this CLI by (the token's ``sub``, else local).

    The signature is the server's to check; this only reads who the token names.
    """
    token = settings.CLIENT_TOKEN.get()
    if not token:
        return LOCAL_USER
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return LOCAL_USER  # the server will answer 401 and say why
    return str(claims.get("sub") or LOCAL_USER)


def remembered(client: SyncLangGraphClient, user: str) -> list[tuple[Fact, str]]:
    """Return the user's facts with when each was last learnt, in the prompt's order."""
    found = client.store.search_items(namespace(user), limit=100)
    facts: list[tuple[Fact, str]] = []
    for item in found["items"]:
        value: dict[str, Any] = dict(item["value"])
        fact = Fact.from_value(value)
        if fact is not None and tuple(item["namespace"]) == namespace(user):
            facts.append((fact, str(value.get("updated_at") or item.get("updated_at") or "")))
    return sorted(facts, key=lambda pair: list(KINDS).index(pair[0].kind))


@memory_app.callback()
def list_memory(ctx: typer.Context) -> None:
    """List what the chatbot remembers about you (run `chatbot memory forget ID` to remove one)."""
    if ctx.invoked_subcommand is not None:
        return
    user = current_user()
    with _server_errors():
        facts = remembered(_client(), user)
    if not facts:
        console.print(f"Nothing is remembered about {user}.")
        return
    # Narrow enough for a piped 80-column terminal: the id is what `forget` takes.
    table = Table(box=None)
    table.add_column("id", no_wrap=True)
    table.add_column("remembered", overflow="fold")
    table.add_column("learnt", no_wrap=True)
    for fact, when in facts:
        table.add_row(fact.kind, fact.text, when[:16].replace("T", " "))
    console.print(table)


@memory_app.command("forget")
def forget(
    fact_id: Annotated[
        str | None, typer.Argument(metavar="ID", help="The fact's id, as `chatbot memory` lists.")
    ] = None,
    everything: Annotated[bool, typer.Option("--all", help="Forget every fact.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to confirm --all.")] = False,
) -> None:
    """Forget one fact (ID), or everything (--all)."""
    if (fact_id is None) == (not everything):
        errors.print("Name one fact's ID (see `chatbot memory`) or pass --all.")
        raise typer.Exit(2)
    user = current_user()
    client = _client()
    with _server_errors():
        facts = [fact for fact, _when in remembered(client, user)]
        if everything:
            if facts and not yes:
                if not sys.stdin.isatty():
                    errors.print("Refusing to forget everything without confirmation: pass --yes.")
                    raise typer.Exit(2)
                typer.confirm(f"Forget all {len(facts)} facts about {user}?", abort=True)
            for fact in facts:
                client.store.delete_item(namespace(user), fact.kind)
            console.print(f"Forgot {len(facts)} fact(s); nothing is remembered about {user}.")
            return
        if fact_id not in {fact.kind for fact in facts}:
            errors.print(
                f"Nothing is remembered under {fact_id!r}; `chatbot memory` lists the ids."
            )
            raise typer.Exit(1)
        client.store.delete_item(namespace(user), str(fact_id))
    console.print(f"Forgot {fact_id}.")


chatbot.add_typer(memory_app, name="memory")
