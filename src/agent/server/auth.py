"""Who may do what on the chatbot server: the ``langgraph_sdk.Auth`` handler in ``langgraph.json``.

Authentication is by bearer token (``Authorization: Bearer <jwt>``, see
``agent.server.tokens``). With ``CHATBOT_AUTH_SECRET`` unset, auth is off: every
request is the local user and nothing is filtered (a warning says so in the
server log). With it set:

- threads, runs and crons record their owner (``metadata.owner``) and every
  read, search, change or delete is filtered to the caller's own, so another
  user's thread answers 404 and searches list only the caller's threads;
- assistants may be read, searched and used by anyone, but only an admin
  token may create, change or delete them;
- store namespaces of a user start with their user id; the chatbot's memory
  of a user is ``(user_id, "memories")`` (``agent.memory``), so only they
  read, list, change or delete it, and deleting a thread also forgets the
  facts learnt in it, its summaries and its progress, once the server has
  deleted it (``agent.server.thread_deletion``); a chore still running for it
  writes nothing after (``agent.memory.deletions``). Deleting a fact
  through ``/store`` leaves a marker first, so a chore still reading an older
  message does not save it again.

Studio under ``langgraph dev`` (the ``x-auth-scheme: langsmith`` header)
is let in as its own user, ``langgraph-studio-user``: it works, sees its own
threads and nobody else's.
"""

from __future__ import annotations

import logging
from typing import Any

from langgraph_sdk import Auth

from agent.memory import keeper
from agent.memory.facts import namespace as memory_namespace
from agent.server.thread_deletion import deleting_as
from agent.server.tokens import (
    ADMIN_PERMISSION,
    SECRET_ENV,
    auth_secret,
    authenticate_header,
)
from agent.server.written_threads import writing_as

logger = logging.getLogger(__name__)

OWNER_KEY = "owner"
"""Metadata key that records who owns a thread, run or cron."""

SECRET = auth_secret()
"""The signing secret, read once when the server loads this module."""

if SECRET is None:
    logger.warning(
        "Authentication is OFF: %s is not set, so anyone who can reach this server "
        "can read and change every conversation. Set it to require bearer tokens.",
        SECRET_ENV,
    )

auth = Auth()


@auth.authenticate
async def authenticate(authorization: str | None) -> Auth.types.MinimalUserDict:
    """Authenticate one request from its bearer token (or as the local user when auth is off)."""
    return authenticate_header(authorization, SECRET)


def owner_filter(identity: str, value: Any) -> dict[str, str]:
    """Record ``identity`` as the owner in ``value``'s metadata and return the matching filter.

    Args:
        identity: The caller's user id.
        value: The mutable payload of the request (a dict for every resource action).
    """
    filters = {OWNER_KEY: identity}
    if isinstance(value, dict):
        metadata = value.get("metadata")
        if not isinstance(metadata, dict):
            metadata = {}
            value["metadata"] = metadata
        metadata.update(filters)
    return filters


@auth.on
async def only_own(ctx: Auth.types.AuthContext, value: Any) -> dict[str, str] | None:
    """Scope threads, runs and crons to their owner (everything not handled more specifically)."""
    writing_as(ctx.user.identity)  # an import, update or copy is indexed for search as theirs
    if SECRET is None:
        return None
    return owner_filter(ctx.user.identity, value)


@auth.on.threads.delete
async def forget_with_the_thread(ctx: Auth.types.AuthContext, value: Any) -> dict[str, str] | None:
    """Scope a thread's deletion to its owner, and have what the chatbot learnt in it forgotten.

    Its facts, summaries and progress go once the server has deleted it
    (``agent.server.thread_deletion``): a delete refused with 404 forgets
    nothing, and only the caller's own memory is touched. A run's deletion
    (``run_id`` set) keeps the facts.
    """
    filters = await only_own(ctx, value)
    if isinstance(value, dict) and value.get("thread_id") and not value.get("run_id"):
        deleting_as(ctx.user.identity)
    return filters


@auth.on.assistants.read
async def anyone_may_read_assistants(ctx: Auth.types.AuthContext, value: Any) -> None:
    """Let every authenticated user read and use the assistants."""
    return None


@auth.on.assistants.search
async def anyone_may_search_assistants(ctx: Auth.types.AuthContext, value: Any) -> None:
    """Let every authenticated user list the assistants."""
    return None


def require_admin(permissions: list[str] | tuple[str, ...], action: str) -> None:
    """Raise 403 unless the caller holds the admin permission.

    Args:
        permissions: The caller's permissions.
        action: What was attempted, for the message.
    """
    if ADMIN_PERMISSION not in permissions:
        raise Auth.exceptions.HTTPException(
            status_code=403,
            detail=f"Only an admin may {action} assistants; create an admin token with "
            "`chatbot token create <user> --admin`.",
        )


@auth.on.assistants.create
async def admin_creates_assistants(ctx: Auth.types.AuthContext, value: Any) -> None:
    """Let only an admin create assistants."""
    require_admin(list(ctx.permissions), "create")


@auth.on.assistants.update
async def admin_updates_assistants(ctx: Auth.types.AuthContext, value: Any) -> None:
    """Let only an admin change assistants."""
    require_admin(list(ctx.permissions), "change")


@auth.on.assistants.delete
async def admin_deletes_assistants(ctx: Auth.types.AuthContext, value: Any) -> None:
    """Let only an admin delete assistants."""
    require_admin(list(ctx.permissions), "delete")


def scope_namespace(identity: str, value: dict[str, Any]) -> None:
    """Confine a store operation to namespaces that start with ``identity``.

    A missing or empty namespace (search, list) becomes ``(identity,)``; one
    that starts with anything else is refused with 403.
    """
    namespace = tuple(value.get("namespace") or ())
    if not namespace:
        value["namespace"] = (identity,)
    elif namespace[0] != identity:
        raise Auth.exceptions.HTTPException(
            status_code=403,
            detail=f"Store namespaces of user {identity!r} start with {identity!r}.",
        )


@auth.on.store()
async def own_store_namespace(ctx: Auth.types.AuthContext, value: Any) -> None:
    """Keep each user's store items under a namespace that starts with their user id.

    Deleting one of a user's facts (the chat page's Forget, ``chatbot memory
    forget``) forgets it here first: a marker, so a chore still reading an
    older message does not save it again (``keeper.forget``).
    """
    if SECRET is not None:
        scope_namespace(ctx.user.identity, value)
    if ctx.action != "delete" or not isinstance(value, dict):
        return
    namespace, key = tuple(value.get("namespace") or ()), str(value.get("key") or "")
    if namespace and namespace == memory_namespace(namespace[0]):
        try:
            from langgraph_api.store import get_store  # type: ignore[import-untyped]

            await keeper.forget(await get_store(), namespace[0], key)
        except Exception:
            logger.exception("Could not mark fact %s forgotten", key)
