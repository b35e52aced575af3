"""``chatbot memory``: see and edit what the chatbot remembers about you, across conversations.

The facts are items of the LangGraph store under ``(user_id, "memories")``,
read and deleted through the server's ``/store`` routes, so the CLI, the chat
page and the graph share one memory. The user id is the one the server
knows the caller by: the ``sub`` of ``CHATBOT_TOKEN`` when auth is on, else
the local user.
"""

from __future__ import annotations

import sys
from typing import Annotated, NoReturn

import jwt
import typer
from langgraph_sdk.client import SyncLangGraphClient
from rich.table import Table

from agent import LOCAL_USER, settings
from agent.client.session import app as chatbot
from agent.client.session import connect, console, errors, server_errors
from agent.memory.facts import Fact, corrected, in_list_order, namespace
from agent.memory.keeper import RECALL_LIMIT

memory_app = typer.Typer(
    help="What the chatbot remembers about you across conversations: list, correct, forget.",
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


def remembered(client: SyncLangGraphClient, user: str, thread_id: str | None = None) -> list[Fact]:
    """Return the user's facts (those learnt in ``thread_id`` only, if given) as lists show them.

    Topics in the table's order, newest first within one; the facts of one
    thread are what deleting it forgets.
    """
    learnt_there = {"thread_id": thread_id} if thread_id is not None else None
    found = client.store.search_items(namespace(user), filter=learnt_there, limit=RECALL_LIMIT)
    facts = [
        fact
        for item in found["items"]
        if tuple(item["namespace"]) == namespace(user)
        and (fact := Fact.from_value(dict(item["value"]), key=str(item["key"]))) is not None
        and (thread_id is None or fact.thread_id == thread_id)
    ]
    return in_list_order(facts)


def named(facts: list[Fact]) -> str:
    """Return ``facts`` as a line names them: ``name 지유, location 광주``."""
    return ", ".join(f"{fact.topic} {fact.text}" for fact in facts)


def chosen(facts: list[Fact], fact_id: str) -> Fact | None:
    """Return the fact ``fact_id`` names: its number in the list (from 1) or its key."""
    if fact_id.isdigit() and 1 <= int(fact_id) <= len(facts):
        return facts[int(fact_id) - 1]
    return next((fact for fact in facts if fact.store_key() == fact_id), None)


@memory_app.callback()
def list_memory(ctx: typer.Context) -> None:
    """List what the chatbot remembers about you (`chatbot memory forget N` removes one)."""
    if ctx.invoked_subcommand is not None:
        return
    user = current_user()
    with server_errors():
        facts = remembered(connect(), user)
    if not facts:
        console.print(f"Nothing is remembered about {user}.")
        return
    # Narrow enough for a piped 80-column terminal: the number or the id is what `forget` takes.
    table = Table(box=None)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("topic", no_wrap=True)
    table.add_column("remembered", overflow="fold")
    table.add_column("learnt", no_wrap=True)
    table.add_column("id", overflow="fold")
    for number, fact in enumerate(facts, start=1):
        learnt = fact.updated_at[:16].replace("T", " ")
        table.add_row(str(number), fact.topic, fact.text, learnt, fact.store_key())
    console.print(table)


def _refuse_unknown(fact_id: str) -> NoReturn:
    errors.print(
        f"Nothing is remembered under {fact_id!r}; `chatbot memory` lists the numbers and ids."
    )
    raise typer.Exit(1)


@memory_app.command("forget")
def forget(
    fact_id: Annotated[
        str | None,
        typer.Argument(metavar="ID", help="The fact's number or id, as `chatbot memory` lists."),
    ] = None,
    everything: Annotated[bool, typer.Option("--all", help="Forget every fact.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to confirm --all.")] = False,
) -> None:
    """Forget one fact (its number or id), or everything (--all)."""
    if (fact_id is None) == (not everything):
        errors.print("Name one fact's number or id (see `chatbot memory`) or pass --all.")
        raise typer.Exit(2)
    user = current_user()
    client = connect()
    with server_errors():
        facts = remembered(client, user)
        if everything:
            if facts and not yes:
                if not sys.stdin.isatty():
                    errors.print("Refusing to forget everything without confirmation: pass --yes.")
                    raise typer.Exit(2)
                typer.confirm(f"Forget all {len(facts)} facts about {user}?", abort=True)
            for fact in facts:
                client.store.delete_item(namespace(user), fact.store_key())
            console.print(f"Forgot {len(facts)} fact(s); nothing is remembered about {user}.")
            return
        doomed = chosen(facts, str(fact_id))
        if doomed is None:
            _refuse_unknown(str(fact_id))
        client.store.delete_item(namespace(user), doomed.store_key())
    console.print(f"Forgot {doomed.topic}: {doomed.text}")


@memory_app.command("correct")
def correct(
    fact_id: Annotated[
        str,
        typer.Argument(metavar="ID", help="The fact's number or id, as `chatbot memory` lists."),
    ],
    text: Annotated[str, typer.Argument(help="The fact as it is now, in your own words.")],
) -> None:
    """Correct one fact: it keeps its topic and takes TEXT as its value."""
    if not text.strip():
        errors.print("Give the fact's new value, or `chatbot memory forget` it.")
        raise typer.Exit(2)
    user = current_user()
    client = connect()
    with server_errors():
        fact = chosen(remembered(client, user), fact_id)
        if fact is None:
            _refuse_unknown(fact_id)
        fixed = corrected(fact, text)
        client.store.put_item(namespace(user), fact.store_key(), fixed.value(), index=False)
    console.print(f"Now remembered: {fixed.topic}: {fixed.text}")


chatbot.add_typer(memory_app, name="memory")
