"""Every text the chatbot sends a model: the reply's, the summarizer's and memory's.

Edit here to change what the model is told; the modules that build prompts
(``conversation.prompt``, ``conversation.summary``, ``memory.facts``,
``memory.extraction``) hold the logic, not the words. The topics memory knows,
and the label each fact is listed under, are data in ``memory.topics``.
"""

SYSTEM_PROMPT = (
    'You are a helpful assistant. Reply in {language}. Speak to the user as "you": their '
    "name, home and life are theirs, never yours."
)
"""The default system prompt template; ``{language}`` is the thread's reply language."""

DEFAULT_LANGUAGE = "English"
"""The reply language of a thread whose user has written nothing telling (e.g. "ok")."""

LANGUAGE_REMINDER = "(Answer in {language}.)"
"""Added after the newest user message of the prompt (not of the thread), only when that
message is not written in the reply language (a language set for the thread, a short "ok").

Measured with the embedded Qwen2.5 0.5B: told only in the system prompt, it
answered English questions in English in threads set to German, Japanese or
Korean; with this line after the question, 18 of 20 replies were in the
thread's language. After a question already in the reply language it did
harm: the model rewrote the question in that language instead of answering.
"""

SUMMARY_HEADING = "Summary of the earlier conversation:"
"""Put before the running summary in the system prompt."""

MEMORY_HEADING = "About the user, from earlier conversations (facts about them, not about you):"
"""Put before the list of the user's remembered facts in the system prompt."""

MEMORY_BOUNDS = (
    "Apart from this and what they say here, you know nothing about them: asked about "
    "anything else of theirs, say they have not told you."
)
"""Put after the list: what the bot says of what is not in it."""

EXAMPLES_HEADING = "For example, in the user's language:"
"""Put before the worked exchanges that follow what the bot knows of the user."""

NAME_EXAMPLE = "User: What's my name? -> You: Your name is {name}."
"""A worked exchange, with the user's own name (never another's: a model copies examples)."""

UNKNOWN_EXAMPLE = "User: What's my shoe size? -> You: You haven't told me your shoe size yet."
"""A worked exchange about something memory rarely holds."""

NOTHING_REMEMBERED = (
    "You know nothing about the user beyond what they say in this conversation: asked "
    "about anything else of theirs, say they have not told you.\n"
    f"{EXAMPLES_HEADING}\n{UNKNOWN_EXAMPLE}"
)
"""Put in the system prompt instead of the list when memory holds nothing of the user.

No example about their name here: told "You haven't told me your name yet", the
model said so to users who had, a few messages earlier (measured)."""

UNKNOWN_EXCHANGES: dict[str, tuple[str, str]] = {
    "English": ("What's my shoe size?", "You haven't told me your shoe size yet."),
    "Korean": ("제 신발 사이즈가 뭐예요?", "신발 사이즈는 아직 말씀해 주지 않으셨어요."),
    "Japanese": ("私の靴のサイズは何ですか？", "靴のサイズはまだ教えてもらっていません。"),
    "French": ("Quelle est ma pointure ?", "Vous ne m'avez pas encore dit votre pointure."),
    "Spanish": ("¿Cuál es mi talla de zapatos?", "Todavía no me has dicho tu talla de zapatos."),
    "German": ("Welche Schuhgröße habe ich?", "Deine Schuhgröße hast du mir noch nicht gesagt."),
}
"""A worked exchange in the reply language, put as a turn before the conversation (English
for other languages): asked about something of theirs never said, the bot says so.

Measured on the 1.5B default (36 never-said questions, six languages; docs/quality.md):
the same example as text in the system prompt, in English or in the user's language,
left inventions at 25-27 of 36; as a turn of the conversation, 8 of 36. The model
completes a question in the user's voice ("Mi hermana se llama María."); an earlier
answer in the same language shows it the bot's voice. The question mirrors the
commonest form of such questions ("What's my ...?"), about a thing memory rarely holds.
"""

EARLIER_SAID = "[{date}] {said}"
"""A user's message of an earlier conversation, as the turn before the newest message shows it.

Measured on the 1.5B default (6 languages, one question each about an earlier
conversation, ``memory.earlier``): as turns just before the question, 6 of 6
answered from it; as a note at the end of the system prompt, 5 of 6; before the
question in the user's message, 4 of 6; as a system message before the
question, 0 of 6 (the model ignores a system message in the conversation).
"""

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
    "List the lasting facts the writer states about themselves: their own name, where they "
    "live or moved to, job, family, pets, likes and dislikes, diet, health and plans. "
    "One per line as 'topic: value'. "
    "Topics: {topics}, or another one-word topic. Copy each value from the message in its own "
    "language and script, without particles or articles. When the message states none, "
    "answer: none. That is so for requests (write, tell, translate, summarize, explain), "
    "questions, stories, quoted or pasted text, code, and facts about other people, "
    "characters or the world."
)
"""How the model is asked for facts; ``{topics}`` is the topics table's names. What counts and
what does not is said in words and shown in :data:`EXTRACTION_EXAMPLES`, never decided by a
list of words of one language (``bench/extraction_precision.py`` measures it)."""

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
    ("Seit März wohne ich in Lörrach.", "location: Lörrach"),
    ("Detesto el brócoli.", "dislikes: brócoli"),
    ("うちの犬の名前はおもちです。", "pet: おもち"),
    ("「僕の名前は湊斗です」を英語に翻訳してください。", "none"),
    ("Mi vecino Ezequiel cría abejas en Tudela.", "none"),
    ("Écris un conte sur un meunier nommé Gontran.", "none"),
    ("Der Eiffelturm ist 330 Meter hoch.", "none"),
]
"""Worked examples; their names and places must not be used by any test or benchmark."""

EXTRACTION_MESSAGE_PREFIX = "Message: "
"""What comes before the user's message in each extraction turn."""
