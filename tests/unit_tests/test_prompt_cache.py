"""The embedded server's prompt cache keeps what sampling reads, and bounds its memory."""

from __future__ import annotations

import numpy as np
import pytest

llama = pytest.importorskip("llama_cpp.llama", reason="the embedded model's extra")

from agent.models.local.server import compact_prompt_cache  # noqa: E402

VOCABULARY = 151_936
"""Qwen2.5's vocabulary: one row of logits is this many floats."""


def state(tokens: list[int], rows: int, seed: int = 7) -> object:
    scores = np.random.default_rng(seed).random((rows, VOCABULARY), dtype=np.float32)
    return llama.LlamaState(
        input_ids=np.array(tokens, dtype=np.intc),
        scores=scores,
        n_tokens=len(tokens),
        llama_state=b"\x01" * 1000,
        llama_state_size=1000,
        seed=seed,
    )


def test_a_state_comes_back_whole_for_sampling_and_is_stored_small() -> None:
    cache = compact_prompt_cache(capacity_bytes=1 << 20)
    saved = state(list(range(600)), rows=512)
    cache[list(range(600))] = saved

    back = cache[list(range(600)) + [9, 9]]  # a longer prompt with the same start
    assert back.scores.shape == saved.scores.shape  # what load_state assigns row for row
    assert np.array_equal(back.scores[-1], saved.scores[-1])  # what sampling reads
    assert back.n_tokens == 600 and back.llama_state == saved.llama_state
    assert list(back.input_ids) == list(saved.input_ids)
    stored = cache.cache_state[tuple(range(600))]
    assert stored.scores.nbytes == VOCABULARY * 4, "one row kept, not 512 (311 MB)"


def test_the_cache_drops_the_oldest_state_past_its_capacity() -> None:
    cache = compact_prompt_cache(capacity_bytes=2500)
    for first in range(3):
        cache[[first, 1, 2]] = state([first, 1, 2], rows=3)
    assert len(cache.cache_state) == 2
    assert (0, 1, 2) not in cache.cache_state


def test_a_state_saved_with_one_row_comes_back_with_a_row_for_every_token() -> None:
    # lean_save_state copies only the last row of logits (364 MB for all rows at 600 tokens).
    cache = compact_prompt_cache(capacity_bytes=1 << 20)
    saved = state(list(range(600)), rows=1)
    saved.rows = 600  # type: ignore[attr-defined]
    cache[list(range(600))] = saved

    back = cache[list(range(600))]
    assert back.scores.shape == (600, VOCABULARY)  # what load_state assigns row for row
    assert np.array_equal(back.scores[-1], saved.scores[-1])
