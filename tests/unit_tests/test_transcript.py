"""The embedded model's transcript chat format."""

from __future__ import annotations

from agent.models.local.transcript import FEW_SHOT_PREAMBLE, STOP_SEQUENCES, render_transcript


def test_transcript_lists_turns_after_system_and_preamble() -> None:
    prompt = render_transcript(
        [
            {"role": "system", "content": "Answer in English."},
            {"role": "user", "content": "Hi! I'm Bob"},
            {"role": "assistant", "content": "Hi Bob!"},
            {"role": "user", "content": "What's my name?"},
        ]
    )
    assert prompt.startswith("Answer in English.\n\n" + FEW_SHOT_PREAMBLE)
    assert prompt.endswith(
        "User: Hi! I'm Bob\nAssistant: Hi Bob!\nUser: What's my name?\nAssistant:"
    )


def test_blank_lines_inside_a_message_cannot_end_the_reply_early() -> None:
    prompt = render_transcript([{"role": "user", "content": "line one\n\nline two"}])
    assert prompt.endswith("User: line one line two\nAssistant:")
    assert "line one\n\nline two" not in prompt


def test_content_parts_are_joined_as_text() -> None:
    prompt = render_transcript(
        [
            {
                "role": "user",
                "content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "there"}],
            }
        ]
    )
    assert prompt.endswith("User: Hello there\nAssistant:")


def test_stop_sequences_end_the_reply_before_the_next_user_line() -> None:
    assert "\nUser:" in STOP_SEQUENCES and "\n\n" in STOP_SEQUENCES
