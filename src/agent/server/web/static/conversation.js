// What the page does with a conversation besides showing it: pure functions, no DOM, no
// fetch. It mirrors agent/client/conversations.py (the `chatbot` command) function for
// function; tests/fixtures/conversation_cases.json holds the cases both must pass.

export const EXPORT_FORMAT = "chatbot-conversation"; // same format as `chatbot export --format json`
export const EXPORT_VERSION = 1;
export const ROLE_OF_TYPE = { human: "user", ai: "assistant" }; // LangChain types, and the API's roles
export const SPEAKER_OF_ROLE = { user: "You", assistant: "Bot" };
export const FIRST_WORDS = 60; // characters of a first message that stand for a title

/** The file is not a conversation export; the message says what is wrong and what to do. */
export class BadExport extends Error {}

const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);
const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

/** The text of a message's content as the API returns it: a string, or text parts. */
export function textOf(content) {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => (typeof part === "string" ? part : isObject(part) && typeof part.text === "string" ? part.text : ""))
    .join("");
}

/** The messages of a thread's values (empty when it has none). */
export function messagesOf(values) {
  return isObject(values) && Array.isArray(values.messages) ? values.messages : [];
}

/** The title kept in the thread's metadata, or "". */
export function titleOf(thread) {
  const title = isObject(thread.metadata) ? thread.metadata.title : undefined;
  return typeof title === "string" ? title.trim() : "";
}

/** The start of the thread's first human message, on one line, "…" when cut; or "". */
export function firstWords(thread, limit = FIRST_WORDS) {
  const first = messagesOf(thread.values).find((m) => isObject(m) && m.type === "human");
  const text = first ? textOf(first.content).split(/\s+/).filter(Boolean).join(" ") : "";
  const characters = Array.from(text); // code points, as Python counts them
  return characters.length > limit ? `${characters.slice(0, limit).join("").trimEnd()}…` : text;
}

/** Where each message first appears in a history (newest first), read once for many lookups. */
export function historyIndex(history) {
  const oldestFirst = [...history].reverse();
  const firstSeen = new Map();
  for (const state of oldestFirst) {
    for (const m of messagesOf(state.values)) if (m.id && !firstSeen.has(m.id)) firstSeen.set(m.id, state);
  }
  const byId = new Map(history.map((s) => [s.checkpoint && s.checkpoint.checkpoint_id, s]));
  return { oldestFirst, firstSeen, byId };
}

/**
 * The checkpoint before a message: where an edit or a regenerate starts from.
 * That is the parent of the oldest state holding the message (agent-chat-ui's
 * firstSeenState); null when that parent is not in the history (pruned, or not read
 * yet) or holds the message too (the history starts too late to tell).
 */
export function forkPoint(history, messageId, index = historyIndex(history)) {
  const holds = (state) => messagesOf(state.values).some((m) => m.id === messageId);
  const seen = index.firstSeen.get(messageId);
  const parent = seen && seen.parent_checkpoint;
  const before = parent && index.byId.get(parent.checkpoint_id);
  return before && !holds(before) ? { ...parent } : null;
}

/** Lower case, composed: "é" typed one way matches "é" stored the other. */
const searchable = (text) => text.normalize("NFC").toLowerCase();

/** Whether every word is in the thread's title or its messages (any case). */
export function matches(thread, words) {
  const wanted = searchable(words).split(/\s+/).filter(Boolean);
  const texts = [titleOf(thread), ...messagesOf(thread.values).map((m) => textOf(m && m.content))];
  const haystack = searchable(texts.join("\n"));
  return wanted.every((word) => haystack.includes(word));
}

/** The human and AI messages as {role, content}, the way the server takes them. */
export function exportedMessages(messages) {
  return messages
    .filter((m) => isObject(m) && has(ROLE_OF_TYPE, m.type))
    .map((m) => ({ role: ROLE_OF_TYPE[m.type], content: textOf(m.content) }));
}

/** The title an export carries: the thread's, else its first words, else "Conversation". */
export function exportTitle(thread, values) {
  return titleOf(thread) || firstWords({ values }) || "Conversation";
}

/** A time as an export writes it: UTC, to the second ("2026-12-02T09:30:15+00:00"). */
const isoSeconds = (date) => `${date.toISOString().slice(0, 19)}+00:00`;

/** A conversation as the JSON that Import (and `chatbot import`) reads back. */
export function exportJson(thread, values, exportedAt = new Date()) {
  const language = isObject(values) ? values.language : undefined;
  const data = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    title: exportTitle(thread, values),
    language: typeof language === "string" && language.trim() ? language : null,
    thread_id: thread.thread_id ?? null,
    exported_at: isoSeconds(exportedAt),
    messages: exportedMessages(messagesOf(values)),
  };
  return `${JSON.stringify(data, null, 2)}\n`;
}

/** A conversation as Markdown: its title, then each message under its speaker. */
export function exportMarkdown(thread, values) {
  const parts = [`# ${exportTitle(thread, values)}`, ""];
  for (const message of exportedMessages(messagesOf(values))) {
    parts.push(`**${SPEAKER_OF_ROLE[message.role]}:**`, "", message.content, "");
  }
  return parts.join("\n");
}

const WHERE_EXPORTS_COME_FROM = "Export JSON on the chat page, or `chatbot export --format json`";

/** Read a JSON export: {title, language, messages}; throws BadExport saying what is wrong. */
export function readExport(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new BadExport(
      `the file is not JSON: import takes a conversation exported as JSON (${WHERE_EXPORTS_COME_FROM}). ` +
        `The parser said: ${error.message}.`,
    );
  }
  const messages = isObject(data) ? data.messages : undefined;
  if (!isObject(data) || data.format !== EXPORT_FORMAT || !Array.isArray(messages) || !messages.length) {
    throw new BadExport(
      `the file is not a conversation export: a JSON object with "format": "${EXPORT_FORMAT}" ` +
        `and a non-empty "messages" list (${WHERE_EXPORTS_COME_FROM}, writes one).`,
    );
  }
  const read = messages.map((message, i) => {
    const role = isObject(message) ? message.role : undefined;
    const content = isObject(message) ? message.content : undefined;
    if (typeof role !== "string" || !has(SPEAKER_OF_ROLE, role) || typeof content !== "string" || !content.trim()) {
      throw new BadExport(
        `message ${i + 1} needs a role "user" or "assistant" and some text: ` +
          "fix it in the file, or export the conversation again.",
      );
    }
    return { role, content };
  });
  const { title, language } = data;
  return {
    title: typeof title === "string" ? title.trim() : "",
    language: typeof language === "string" && language.trim() ? language : null,
    messages: read,
  };
}

/**
 * The node that ends a turn, in a graph as GET /assistants/{id}/graph draws it. An import
 * writes its messages as that node, so the thread has nothing left to run.
 */
export function finalNode(graph) {
  const edges = isObject(graph) && Array.isArray(graph.edges) ? graph.edges : [];
  const last = edges.filter((e) => isObject(e) && e.target === "__end__").map((e) => String(e.source));
  if (last.length !== 1) {
    throw new Error(
      `the graph has ${last.length} nodes that end a turn, not one (${last.join(", ") || "none"}): ` +
        "an import cannot tell which node to write its messages as.",
    );
  }
  return last[0];
}

/**
 * The body of POST /threads that writes an imported conversation: one request creates the
 * thread and writes its messages as `asNode` (finalNode), so no model is called.
 */
export function importRequest(title, language, messages, graphId, asNode) {
  const values = { messages };
  if (language) values.language = language;
  const metadata = { graph_id: graphId, ...(title ? { title } : {}) };
  return { metadata, supersteps: [{ updates: [{ values, as_node: asNode }] }] };
}

// ---- branches (the page's switcher; the CLI has none) -----------------------------

/** How many leading messages two lists share, by id. */
function commonPrefix(a, b) {
  let n = 0;
  while (n < a.length && n < b.length && a[n].id === b[n].id) n += 1;
  return n;
}

/** historyIndex, plus how many of the shown messages each state (oldest first) shares. */
export function branchIndex(history, shown) {
  const index = historyIndex(history);
  index.shared = index.oldestFirst.map((s) => commonPrefix(messagesOf(s.values), shown));
  return index;
}

/** Every message that stood at this place after the same earlier messages, oldest first. */
export function versions(history, shown, place, index = branchIndex(history, shown)) {
  const ids = [];
  index.oldestFirst.forEach((s, k) => {
    const messages = messagesOf(s.values);
    if (index.shared[k] < place || messages.length <= place) return;
    const candidate = messages[place];
    if (candidate.type === shown[place].type && !ids.includes(candidate.id)) ids.push(candidate.id);
  });
  if (!ids.includes(shown[place].id)) ids.push(shown[place].id);
  return ids;
}

/** The state to show for a version: the longest (then newest) branch with it at this place. */
export function branchWith(history, shown, place, messageId, index = branchIndex(history, shown)) {
  let best = null;
  for (let k = index.oldestFirst.length - 1; k >= 0; k -= 1) {
    const messages = messagesOf(index.oldestFirst[k].values);
    if (index.shared[k] < place || messages.length <= place || messages[place].id !== messageId) continue;
    if (!best || messages.length > messagesOf(best.values).length) best = index.oldestFirst[k];
  }
  return best;
}
