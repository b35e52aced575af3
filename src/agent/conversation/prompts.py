"""Every text the chatbot sends a model: the reply's, the summarizer's and memory's.

Edit here to change what the model is told; the modules that build prompts
(``conversation.prompt``, ``conversation.summary``, ``memory.facts``,
``memory.extraction``) hold the logic, not the words. The topics memory knows,
and the sentence each fact becomes, are data in ``memory.topics``.
"""

SYSTEM_PROMPT = (
    "You are a helpful assistant chatting with a user. Answer in {language}. What the user "
    "told you about themselves is theirs, not yours. Asked about something they never told "
    "you, say you don't know."
)
"""The default system prompt template; ``{language}`` is the thread's reply language."""

DEFAULT_LANGUAGE = "English"
"""The reply language of a thread whose user has written nothing telling (e.g. "ok")."""

LANGUAGE_REMINDER = "(Answer in {language}.)"
"""Added after the newest user message of the prompt (not of the thread).

Measured with the embedded Qwen2.5 0.5B: told only in the system prompt, it
answered English questions in English in threads set to German, Japanese or
Korean; with this line after the question, 18 of 20 replies were in the
thread's language.
"""

SUMMARY_HEADING = "Summary of the earlier conversation:"
"""Put before the running summary in the system prompt."""

MEMORY_HEADING = "What you remember about the user from earlier conversations:"
"""Put before the user's remembered facts in the system prompt."""

SUMMARIZER_INSTRUCTIONS = (
    "You keep a running summary of a conversation between a user and an assistant. "
    "Merge the new messages into the summary so far. Keep every fact the user gave "
    "about themselves (name, preferences, plans), decisions and open questions; drop "
    'small talk. Write each fact as a sentence about the user ("The user\'s ..."). '
    "Write it in {language}, the language of the conversation. "
    "Answer with the updated summary only, in at most {words} words."
)

SUMMARY_SO_FAR = "Summary so far:"
NEW_MESSAGES = "New messages:"

EXTRACTION_INSTRUCTIONS = (
    "List the lasting facts the user states about themselves in their message, one per line "
    "as 'topic: value'. Topics: {topics}, or another one-word topic. Copy each "
    "value from the message in its own language and script, without particles or articles. "
    "For small talk, questions and facts about other things, answer: none"
)
"""How the model is asked for facts; ``{topics}`` is the topics table's names."""

EXTRACTION_EXAMPLES: list[tuple[str, str]] = [
    (
        "저는 하람이에요. 지난달에 통영으로 이사했고 등산을 좋아해요.",
        "name: 하람\nlocation: 통영\nlikes: 등산",
    ),
    (
        "実は先月、鳥取に引っ越しました。そばアレルギーがあります。",
        "location: 鳥取\nhealth: そばアレルギー",
    ),
    (
        "Je suis sage-femme, j'ai deux filles et j'adore le jardinage.",
        "job: sage-femme\nfamily: deux filles\nlikes: jardinage",
    ),
    (
        "Call me Thorvald. I'm vegetarian, I love crosswords but I can't stand horror films.",
        "name: Thorvald\ndiet: vegetarian\nlikes: crosswords\ndislikes: horror films",
    ),
    ("Mein Kater heißt Fridolin und ich spiele Klavier.", "pet: Fridolin\ninstrument: Klavier"),
    ("Der Eiffelturm ist 330 Meter hoch.", "none"),
]
"""Worked examples; their names and places must not be used by any test or benchmark."""

EXTRACTION_MESSAGE_PREFIX = "Message: "
"""What comes before the user's message in each extraction turn."""
