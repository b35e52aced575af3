"""Deleting a run's record never deletes that turn of the conversation.

``DELETE /threads/{id}/runs/{run}`` removes a run from the run list; LangGraph
also calls the checkpointer's ``adelete_for_runs`` then, which would remove
the run's checkpoints and with them the turn's messages. This middleware
marks such requests (:func:`agent.storage.kept_runs.keeping_turns_of`), so
the messages stay; a rollback (``runs.cancel(action="rollback")``,
``multitask_strategy="rollback"``) still deletes what the cancelled run wrote.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from agent.storage.kept_runs import keeping_turns_of

RUN_RECORD = re.compile(r"^/threads/[^/]+/runs/(?P<run_id>[^/]+)/?$")


class KeepTurnsOfDeletedRuns:
    """ASGI middleware: a run record's delete leaves the thread's messages alone."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Mark run-record deletes; pass everything through."""
        if scope["type"] == "http" and scope["method"] == "DELETE":
            if match := RUN_RECORD.match(scope["path"]):
                with keeping_turns_of([match["run_id"]]):
                    await self.app(scope, receive, send)
                return
        await self.app(scope, receive, send)
