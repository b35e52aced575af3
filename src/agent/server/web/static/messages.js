// The conversation shown: its messages with their actions (Copy, Edit, Regenerate, Retry),
// the branch switcher of a message with other versions, and the history behind them.
import { json, threadPath } from "./api.js";
import { branchIndex, branchWith, forkPoint, textOf, versions } from "./conversation.js";
import { renderMarkdown } from "./markdown.js";
import { button, els, setBusy, state } from "./page.js";

const HISTORY_LIMIT = 1000; // at most this many checkpoints are read for edit, regenerate and branches
// Each checkpoint comes with the whole conversation, so a long thread reads fewer of them
// (the newest; older ones are read when a message needs them): about this many messages.
// The browser tests set window.CHATBOT_HISTORY_BUDGET to make a short thread "long".
const HISTORY_BUDGET = Number(window.CHATBOT_HISTORY_BUDGET) || 20000;

let actions = { edit: () => {}, regenerate: () => {} };

/** What Edit's Save (and Retry) and Regenerate do: the chat's part, given by app.js. */
export function messageActions(given) {
  actions = given;
}

let cached = null;

/** branchIndex of the history and the messages shown, read once per change of either. */
function index() {
  if (!cached || cached.history !== state.history || cached.messages !== state.messages) {
    cached = { history: state.history, messages: state.messages, index: branchIndex(state.history, state.messages) };
  }
  return cached.index;
}

/** Whether a message has a known fork point, or one older history (not read yet) may hold. */
export function mayEdit(messageId) {
  return Boolean(forkPoint(state.history, messageId, index())) || !state.historyComplete;
}

/** How many checkpoints to read at a time: fewer the longer the conversation. */
export function historyLimit() {
  return Math.max(10, Math.min(HISTORY_LIMIT, Math.floor(HISTORY_BUDGET / Math.max(1, state.messages.length))));
}

/** The checkpoint before a message, reading older checkpoints a page at a time until it turns up. */
export async function findForkPoint(messageId) {
  let point = forkPoint(state.history, messageId, index());
  while (!point && !state.historyComplete && state.history.length) {
    const oldest = state.history[state.history.length - 1].checkpoint.checkpoint_id;
    const limit = historyLimit();
    const older = await json(`${threadPath(state.threadId)}/history`, {
      method: "POST",
      body: { limit, before: { configurable: { checkpoint_id: oldest } } },
    });
    state.history = state.history.concat(older || []);
    state.historyComplete = !older || older.length < limit;
    point = forkPoint(state.history, messageId, index());
  }
  return point;
}

function showVersion(place, messageId) {
  const best = branchWith(state.history, state.messages, place, messageId, index());
  if (!best) return;
  const latest = state.history[0];
  const isLatest = latest && best.checkpoint.checkpoint_id === latest.checkpoint.checkpoint_id;
  state.viewCheckpoint = isLatest ? null : best.checkpoint;
  state.messages = best.values.messages;
  renderMessages();
}

function messageItem(kind, text) {
  const item = document.createElement("li");
  item.className = `message ${kind}`;
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = kind === "human" ? "You" : "Bot";
  const body = document.createElement("div");
  body.className = kind === "human" ? "body" : "body markdown";
  if (kind === "human") body.textContent = text; // the user's own words, never parsed
  else renderMarkdown(body, text);
  const actionsBox = document.createElement("div");
  actionsBox.className = "actions";
  item.append(who, body, actionsBox);
  return item;
}

/** Append a message not stored yet (the one sent, the reply streaming). */
export function addMessage(kind, text) {
  const item = messageItem(kind, text);
  els.messages.append(item);
  els.emptyHint.hidden = true;
  item.scrollIntoView({ block: "end" });
  return item;
}

async function copyText(text, control) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement("textarea"); // clipboard API refused (http, permissions)
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  control.textContent = "Copied";
  setTimeout(() => (control.textContent = "Copy"), 1500);
}

function branchSwitcher(place) {
  const ids = versions(state.history, state.messages, place, index());
  if (ids.length < 2) return null;
  const position = ids.indexOf(state.messages[place].id);
  const box = document.createElement("span");
  box.className = "branches";
  const previous = button("‹", "plain icon waits", () => showVersion(place, ids[position - 1]));
  previous.setAttribute("aria-label", "Previous version");
  previous.dataset.blocked = position === 0 ? "yes" : "";
  const label = document.createElement("span");
  label.className = "branch-label";
  label.textContent = `${position + 1} / ${ids.length}`;
  const next = button("›", "plain icon waits", () => showVersion(place, ids[position + 1]));
  next.setAttribute("aria-label", "Next version");
  next.dataset.blocked = position === ids.length - 1 ? "yes" : "";
  box.append(previous, label, next);
  return box;
}

/** Draw state.messages, each with the actions it allows. */
export function renderMessages() {
  els.messages.replaceChildren();
  const shown = state.messages;
  const lastAi = shown.map((m) => m.type).lastIndexOf("ai");
  shown.forEach((message, place) => {
    if (message.type !== "human" && message.type !== "ai") return;
    const text = textOf(message.content);
    const item = messageItem(message.type, text);
    item.dataset.messageId = message.id || "";
    const box = item.querySelector(".actions");
    const switcher = message.id ? branchSwitcher(place) : null;
    if (switcher) box.append(switcher);
    const copy = button("Copy", "plain", () => copyText(text, copy), "Copy this message");
    box.append(copy);
    if (message.type === "human" && mayEdit(message.id)) {
      box.append(button("Edit", "plain waits", () => startEdit(place), "Edit this message and answer it again"));
    }
    if (place === lastAi && mayEdit(message.id)) {
      box.append(button("Regenerate", "plain waits", () => actions.regenerate(place), "Write this reply again"));
    }
    if (message.type === "human" && place === shown.length - 1 && mayEdit(message.id)) {
      // Left without a reply (stopped, or the model failed): ask again from before it.
      box.append(button("Retry", "plain waits", () => actions.edit(place, text), "Answer this message again"));
    }
    els.messages.append(item);
  });
  els.emptyHint.hidden = els.messages.children.length > 0;
  const last = els.messages.lastElementChild;
  if (last) last.scrollIntoView({ block: "end" });
  const hasMessages = shown.length > 0;
  els.exportMd.disabled = !hasMessages;
  els.exportJson.disabled = !hasMessages;
  setBusy(state.busy); // redrawn while a reply streams: its actions wait too
}

/** Edit a message of the user's in place: Enter (or Save) sends it, Escape cancels. */
export function startEdit(place) {
  if (state.busy) return;
  const item = els.messages.querySelector(`.message[data-message-id="${CSS.escape(state.messages[place].id)}"]`);
  if (!item) return;
  const field = document.createElement("textarea");
  field.className = "edit-box";
  field.setAttribute("aria-label", "Edit message");
  field.value = textOf(state.messages[place].content);
  field.rows = Math.min(8, field.value.split("\n").length + 1);
  const save = button("Save and send", "primary", () => {
    const text = field.value.trim();
    if (text) actions.edit(place, text);
  });
  const cancel = button("Cancel", "plain", () => renderMessages());
  field.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      save.click();
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      cancel.click();
    }
  });
  const row = document.createElement("div");
  row.className = "actions";
  row.append(cancel, save);
  item.querySelector(".body").replaceWith(field);
  item.querySelector(".actions").replaceWith(row);
  field.focus();
}
