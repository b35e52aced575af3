"""The chores a thread's housekeeping does after a reply: index for search, warm up, learn, fold.

:class:`Housework` holds what they work from; :mod:`agent.housekeeping`
queues it, one entry per thread, off the reply's path. Each chore reads the
store afresh, so it may be done again, and one lost to a restart is found
due at the thread's next turn.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AnyMessage, BaseMessage, SystemMessage
from langgraph.store.base import BaseStore

from agent.conversation import summaries
from agent.conversation.context import Context
from agent.conversation.prompt import TokenCounter, message_text
from agent.conversation.summary import (
    bound_summary,
    fold_chunks_through,
    merged,
    needs_folding,
    split_for_folding,
    summarizer_prompt,
    unsummarized,
)
from agent.memory import deletions, extraction, learning
from agent.memory.facts import Fact, instant
from agent.memory.thread_store import thread_store
from agent.models.endpoint import ModelNotConfiguredError, capped, resolve_endpoint
from agent.models.gate import Patience
from agent.storage import search
from agent.turn import (
    THREADLESS_SUMMARIES,
    Thread,
    ask,
    compose,
    counter,
    for_background,
    model_gate,
    system_message,
    what_is_known,
)

EXTRACTION_MAX_TOKENS = 96
"""Enough for a few facts on their own lines; a small model goes on inventing past them."""

WARM_UP_TOKENS = 1
"""Tokens asked for when the embedded model reads the next prompt's start ahead of time."""

ROLES = {"human": "user", "ai": "assistant"}
"""The messages search finds, by LangChain type, and the role it names them by."""

logger = logging.getLogger(__name__)


def search_entries(messages: Iterable[AnyMessage]) -> list[search.Entry]:
    """Return the user's and the assistant's messages with text, in order, as search keeps them."""
    found: list[search.Entry] = []
    for message in messages:
        role = ROLES.get(message.type)
        text = unicodedata.normalize("NFC", message_text(message)).strip() if role else ""
        if role and text and message.id:
            found.append(search.Entry(str(message.id), role, text))
    return found


def _reads_prompts_ahead() -> bool:
    """Tell whether the model is the running embedded server, whose prompt cache a warm-up fills."""
    try:
        return resolve_endpoint().kind == "embedded"
    except ModelNotConfiguredError:
        return False


async def read_extraction_instructions(model: BaseChatModel) -> None:
    """Have the embedded model read the memory extraction's instructions once, at its start.

    Its background context keeps the state of the prompts it read
    (``BACKGROUND_CACHE_BYTES``), so the first extraction then reads only the
    user's message. Read cold, the instructions and examples (about 600 tokens)
    made the first fact a user stated take 26 s to be known at an 8 s pause,
    and the next ones 2 s (1.5B model, 2 cores). Background work: a reply cuts in.
    """
    reader = for_background(capped(model, WARM_UP_TOKENS), "memory")
    try:
        await model_gate().background(partial(ask, reader, extraction.prompt("")))
    except Exception:  # the first extraction reads them itself
        logger.warning("The model could not read the memory instructions ahead", exc_info=True)


@dataclass(frozen=True)
class Housework:
    """A thread's housekeeping after a reply: what it works from, and each chore.

    Every chore reads the store afresh and may be done again (a newer turn's
    housework replaces this one; a lost one is found due at the next turn).
    """

    store: BaseStore | None
    thread: Thread
    messages: list[AnyMessage]
    """The branch's messages, the reply included."""
    context: Context
    language: str
    model: Any
    count: TokenCounter | None = None
    """Fixed token counter (tests); by default the one matching the model."""
    said_at: str = ""
    """When the turn began, which orders the facts it states; by default when the chore runs."""
    search_index: search.SearchIndex | None = None
    """Where the thread's messages are kept for search; by default the open saver's database."""

    @property
    def summary_store(self) -> BaseStore:
        """Where this thread's summaries are kept: written only while the thread is not deleted."""
        if self.store is None:
            return THREADLESS_SUMMARIES
        return thread_store(self.store, self.thread.user_id, self.thread.thread_id)

    async def do(self, used: summaries.Summary) -> None:
        """Index for search, warm up, learn, warm up again, fold (warming up after each summary).

        ``used`` is the summary the reply used; one that only the thread's state
        held (folded before summaries moved to the store) is saved there first.
        A warm-up comes first: it is short (the last exchange), and the next
        reply reuses it. Then memory, then the fold, unless the replies already
        leave out turns no summary covers: then the fold comes first. Every
        change to the prompt's start is read ahead at once, so a reply that
        comes mid-fold finds it read.
        Nothing is done for a thread whose deletion began (its writes would be
        refused anyway: :mod:`agent.memory.thread_store`). Indexing for search
        comes first (no model, a few milliseconds); if it fails the rest is
        still done, and the failure is raised at the end, counted as its own kind.
        """
        user, thread_id = self.thread.user_id, self.thread.thread_id
        if self.store is not None and await deletions.is_deleted(self.store, user, thread_id):
            return
        unindexed: Exception | None = None
        try:
            await self.index_for_search()
        except Exception as error:  # noqa: BLE001 - raised again once the other chores are done
            unindexed = error
        await self._converse(used)
        if unindexed is not None:
            raise unindexed

    async def index_for_search(self) -> None:
        """Keep the branch's messages searchable, and only them (an abandoned branch's go)."""
        index = self.search_index or search.open_index()
        if index is None:
            return
        added = await index.update(
            self.thread.user_id,
            self.thread.thread_id,
            search_entries(self.messages),
            self.said_at or None,
        )
        logger.debug("Indexed %d message(s) of thread %s", added, self.thread.thread_id)

    async def _converse(self, used: summaries.Summary) -> None:
        """Warm up, learn, warm up again, fold: the chores that serve the next reply.

        A fold the replies already need (they leave out turns no summary covers)
        comes before learning; one begun early comes after it, so a fact the
        user stated is known in a new conversation a fold sooner.
        """
        user, thread_id = self.thread.user_id, self.thread.thread_id
        if used.through and not await summaries.exists(
            self.summary_store, user, thread_id, used.through
        ):
            await summaries.save(self.summary_store, user, thread_id, used)
        reads_ahead = _reads_prompts_ahead()
        if reads_ahead:
            await self.warm_up()
        folded = self.context.summarize and await self.fold(reads_ahead, only_if_urgent=True)
        learnt = self.thread.remembering and await self.learn()
        if reads_ahead and learnt:
            await self.warm_up()
        if self.context.summarize and not folded:
            await self.fold(read_ahead=reads_ahead)

    async def _read(self, summarize: bool) -> tuple[summaries.Summary, list[Fact]]:
        """Return the branch's newest summary and the user's facts, as a reply reads them."""
        return await what_is_known(self.store, self.thread, self.messages, summarize)

    def _system(self, summary: str, facts: Sequence[Fact]) -> SystemMessage:
        return system_message(self.context, self.language, summary, facts, "")

    async def learn(self) -> bool:
        """Save what the user's messages of this branch state about them; tell whether any.

        (``memory.learning`` logs what it saved.)
        """
        if self.store is None:
            return False
        extractor = for_background(capped(self.model, EXTRACTION_MAX_TOKENS), "memory")
        failures: list[Exception] = []

        async def extract(prompt: list[BaseMessage]) -> str:
            try:
                reply = await model_gate().background(partial(ask, extractor, prompt))
            except Exception as error:
                failures.append(error)
                raise
            return message_text(reply)

        user, thread_id = self.thread.user_id, self.thread.thread_id
        said_at = self.said_at or instant()
        learnt = await learning.learn(self.store, user, thread_id, self.messages, extract, said_at)
        if failures:
            # Learning leaves a message it could not read for the next turn and goes on;
            # the chore still failed, so the operator is told when it keeps failing.
            raise failures[-1]
        return bool(learnt)

    async def fold(self, read_ahead: bool = False, only_if_urgent: bool = False) -> bool:
        """Fold the oldest turns the summary lacks when the prompt nears its budget.

        Returns whether it folded all it set out to. Each summarizer call's
        summary is saved as it is written, so a fold cut by a reply (False) may
        have saved part of its work; the next one goes on from there. A fold
        saved already (the same last message) is not done again. With
        ``read_ahead``, each saved summary's prompt is read ahead (:meth:`warm_up`)
        before the next call: a new summary changes the prompt's start, which a
        reply would otherwise read cold, and a fold outlasts a user's pause. With
        ``only_if_urgent``, a fold the replies do not need yet is left (False).
        """
        summary, facts = await self._read(summarize=True)
        system = self._system(summary.text, facts)
        recent = unsummarized(self.messages, summary.through)
        tokens = await counter(self.count, [system, *recent])
        budget = self.context.max_history_tokens
        if not needs_folding(recent, system, budget, tokens):
            return False
        fixed = tokens([self._system("", facts)])
        older, _kept = split_for_folding(recent, budget, tokens, fixed)
        through = older[-1].id if older else None
        user, thread_id = self.thread.user_id, self.thread.thread_id
        if not through or await summaries.exists(self.summary_store, user, thread_id, through):
            return False
        summarizer = for_background(self.model, "summary")
        # Urgent once replies leave out turns no summary covers: then a reply may wait
        # for a summarizer call rather than let a user who never pauses starve the fold.
        # Begun early, it is done only between replies, and a reply that cuts in ends it.
        # Each chunk's summary is saved as it is written, so a cut loses one call at most.
        urgent = tokens([system, *recent]) > budget
        if only_if_urgent and not urgent:
            return False
        patience = Patience()
        text = summary.text
        for chunk, chunk_through in fold_chunks_through(older):
            prompt = summarizer_prompt(text, chunk, budget, self.language)
            call = partial(ask, summarizer, prompt)
            if urgent:
                reply = await model_gate().background(call, patience)
            elif (early := await model_gate().unless_cut(call)) is not None:
                reply = early
            else:
                return False  # begun early and cut by a reply: the next turn goes on from here
            text = bound_summary(merged(text, message_text(reply)), budget, tokens)
            folded = summaries.Summary(text, chunk_through)
            await summaries.save(self.summary_store, user, thread_id, folded)
            if read_ahead:
                await self.warm_up()  # cut by a reply, it leaves that reply less to read
        return True

    async def warm_up(self) -> None:
        """Have the embedded model read the next prompt's start now, while nobody waits.

        Its server keeps the state of recent prompts: the next reply then reads
        only the new message, even after a fold changed the summary. The prompt
        is built as the next reply's will be, from the same store read. A reply
        that cuts in ends it for good (that reply read its prompt itself), so a
        user who never pauses does not hold the fold behind it.
        """
        summary, facts = await self._read(self.context.summarize)
        system = self._system(summary.text, facts)
        recent = unsummarized(self.messages, summary.through)
        tokens = await counter(self.count, [system, *recent])
        prompt = compose(system, recent, self.context, tokens, self.language)
        reader = for_background(capped(self.model, WARM_UP_TOKENS), "warm-up")
        await model_gate().unless_cut(partial(ask, reader, prompt))
