// The chat page: vanilla JS against the LangGraph server's own API.
"use strict";

const GRAPH_ID = "chatbot";
const TOKEN_KEY = "chatbot.token";
const API = new URL("..", document.baseURI).href.replace(/\/$/, "");
const THREADS_LISTED = 200; // the sidebar (and its search) covers the newest 200 conversations
const HISTORY_LIMIT = 1000; // at most this many checkpoints are read for edit, regenerate and branches
// Each checkpoint comes with the whole conversation, so a long thread reads fewer of them
// (the newest; older ones are read when a message needs them): about this many messages.
const HISTORY_BUDGET = Number(window.CHATBOT_HISTORY_BUDGET) || 20000;
const EXPORT_FORMAT = "chatbot-conversation"; // same format as `chatbot export --format json`
const AUTO_LANGUAGE = "auto"; // like "", a `language` that lets the bot reply in the user's language

const $ = (id) => document.getElementById(id);
const els = {
  threads: $("threads"),
  threadsEmpty: $("threads-empty"),
  newThread: $("new-thread"),
  search: $("search"),
  importButton: $("import"),
  importFile: $("import-file"),
  title: $("thread-title"),
  exportMd: $("export-md"),
  exportJson: $("export-json"),
  language: $("language"),
  replyLanguage: $("reply-language"),
  messages: $("messages"),
  emptyHint: $("empty-hint"),
  notice: $("notice"),
  composer: $("composer"),
  input: $("input"),
  send: $("send"),
  stop: $("stop"),
  error: $("error"),
  errorText: $("error-text"),
  errorClose: $("error-close"),
  modelInfo: $("model-info"),
  tokenDialog: $("token-dialog"),
  tokenInput: $("token-input"),
};

const state = {
  threadId: null, // the open conversation; null until the first message of a new one
  threadTitle: "", // its title in the thread's metadata, "" when it has none
  languageChanged: false, // the selector differs from what the thread has stored
  storedLanguage: "", // the language the thread has set ("" when automatic)
  replyLanguage: "", // the language its latest reply was asked in (the graph's reply_language)
  busy: false,
  messages: [], // the messages shown: the branch being viewed
  history: [], // the thread's states (get_history), newest first
  historyComplete: true, // false while older checkpoints exist that were not read
  viewCheckpoint: null, // the viewed branch's last checkpoint, when it is not the thread's latest
  threads: [], // the last threads/search answer
  run: null, // the reply being streamed: {threadId, runId, stopping, idKnown}
};

// ---- errors and notices ------------------------------------------------------

class ApiError extends Error {}

function showError(message) {
  els.errorText.textContent = message;
  els.error.hidden = false;
}

function clearError() {
  els.error.hidden = true;
  els.errorText.textContent = "";
}

function notify(message) {
  els.notice.textContent = message;
}

// ---- HTTP, with an optional bearer token --------------------------------------

function askToken() {
  return new Promise((resolve) => {
    els.tokenInput.value = localStorage.getItem(TOKEN_KEY) || "";
    els.tokenDialog.addEventListener(
      "close",
      () => {
        const token = els.tokenInput.value.trim();
        if (els.tokenDialog.returnValue === "ok" && token) {
          localStorage.setItem(TOKEN_KEY, token);
          resolve(true);
        } else {
          resolve(false);
        }
      },
      { once: true },
    );
    els.tokenDialog.showModal();
  });
}

async function request(path, options = {}) {
  for (;;) {
    const headers = { ...(options.headers || {}) };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    const token = localStorage.getItem(TOKEN_KEY);
    if (token) headers["Authorization"] = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(API + path, {
        method: options.method || "GET",
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    } catch (err) {
      throw new ApiError(`Cannot reach the chatbot server (${err.message}). Is it running?`);
    }
    if (response.status === 401 || response.status === 403) {
      if (await askToken()) continue;
      throw new ApiError("The server needs a valid access token.");
    }
    if (!response.ok) {
      let detail = "";
      try {
        detail = await response.text();
        const parsed = JSON.parse(detail);
        detail = parsed.detail || parsed.message || detail;
      } catch (_) {
        /* keep the raw text */
      }
      throw new ApiError(`The server answered ${response.status}${detail ? `: ${detail}` : ""}`);
    }
    return response;
  }
}

async function json(path, options) {
  const response = await request(path, options);
  return response.status === 204 ? null : response.json();
}

const threadPath = (threadId) => `/threads/${encodeURIComponent(threadId)}`;

// ---- helpers ------------------------------------------------------------------

function textOf(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((part) => (part && typeof part.text === "string" ? part.text : "")).join("");
  }
  return "";
}

function when(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const today = new Date();
  const sameDay = date.toDateString() === today.toDateString();
  return sameDay
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleDateString([], { month: "short", day: "numeric" });
}

function shorten(text) {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function firstWords(thread) {
  const messages = (thread.values && thread.values.messages) || [];
  const first = messages.find((m) => m.type === "human") || messages[0];
  const text = first ? textOf(first.content).trim() : "";
  return text ? shorten(text) : "New conversation";
}

function titleOf(thread) {
  const title = thread.metadata && typeof thread.metadata.title === "string" ? thread.metadata.title.trim() : "";
  return title || firstWords(thread);
}

function chosenLanguage(language) {
  // The language a thread set, or "" when it replies in the language its user writes.
  const value = typeof language === "string" ? language.trim() : "";
  return value.toLowerCase() === AUTO_LANGUAGE ? "" : value;
}

function setLanguage(language) {
  const value = chosenLanguage(language);
  if (![...els.language.options].some((o) => o.value === value)) {
    els.language.add(new Option(value, value));
  }
  els.language.value = value;
  state.languageChanged = false;
}

function showReplyLanguage() {
  // Which language the thread replies in: the one set, else the one detected in its user's
  // newest message; a choice in the selector applies from the next message.
  const chosen = els.language.value;
  let text;
  if (state.languageChanged && chosen !== state.storedLanguage) {
    text = chosen ? `Will reply in ${chosen} (set)` : "Will reply in the language you write";
  } else if (state.storedLanguage) {
    text = `Replying in ${state.storedLanguage} (set)`;
  } else if (state.replyLanguage) {
    text = `Replying in ${state.replyLanguage} (detected)`;
  } else {
    text = "Replies in the language you write";
  }
  els.replyLanguage.textContent = text;
}

function rememberLanguage(values) {
  state.storedLanguage = chosenLanguage(values.language);
  state.replyLanguage = chosenLanguage(values.reply_language);
  showReplyLanguage();
}

function icon(d) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "16");
  svg.setAttribute("height", "16");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "none");
  path.setAttribute("stroke", "currentColor");
  path.setAttribute("stroke-width", "2");
  path.setAttribute("stroke-linecap", "round");
  path.setAttribute("stroke-linejoin", "round");
  svg.append(path);
  return svg;
}

const TRASH = "M4 7h16M10 11v6M14 11v6M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V4h6v3";
const PENCIL = "M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4";

function button(label, className, onClick, title) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className;
  b.textContent = label;
  if (title) b.title = title;
  b.addEventListener("click", onClick);
  return b;
}

// ---- Markdown, sanitized ------------------------------------------------------
// Model output is untrusted. Raw HTML in it is shown as text (escaped before
// DOMPurify sees it), images become links (nothing loads by itself), and
// DOMPurify then keeps only the tags Markdown needs and drops javascript: URLs.

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

const SANITIZE = {
  ALLOWED_TAGS: [
    "a", "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
  ],
  ALLOWED_ATTR: ["href", "title", "class", "start", "align"],
};

const markdown = window.marked
  ? new window.marked.Marked({
      gfm: true,
      breaks: true,
      renderer: {
        html: ({ text }) => escapeHtml(text),
        image: ({ href, text }) => `<a href="${escapeHtml(href || "")}">${escapeHtml(text || href || "image")}</a>`,
      },
    })
  : null;

function renderMarkdown(target, text) {
  if (!markdown || !window.DOMPurify) {
    target.textContent = text; // the libraries failed to load: plain text is still safe
    return;
  }
  target.innerHTML = window.DOMPurify.sanitize(markdown.parse(text), SANITIZE);
  for (const link of target.querySelectorAll("a[href]")) {
    link.target = "_blank";
    link.rel = "noopener noreferrer nofollow";
  }
  if (window.hljs) {
    for (const code of target.querySelectorAll("pre code")) window.hljs.highlightElement(code);
  }
}

// ---- sidebar ------------------------------------------------------------------

async function loadThreads() {
  state.threads = await json("/threads/search", {
    method: "POST",
    body: { limit: THREADS_LISTED, sort_by: "updated_at", sort_order: "desc" },
  });
  renderThreads();
}

function matchesSearch(thread, words) {
  if (!words.length) return true;
  const messages = (thread.values && thread.values.messages) || [];
  const haystack = [titleOf(thread), ...messages.map((m) => textOf(m.content))].join("\n").toLowerCase();
  return words.every((word) => haystack.includes(word));
}

function renderThreads() {
  const words = els.search.value.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = state.threads.filter((thread) => matchesSearch(thread, words));
  els.threads.replaceChildren(...shown.map(threadItem));
  els.threadsEmpty.textContent = words.length ? "No conversation matches." : "No conversations yet.";
  els.threadsEmpty.hidden = shown.length > 0;
}

function threadItem(thread) {
  const item = document.createElement("li");
  item.className = "thread";
  item.dataset.threadId = thread.thread_id;
  const active = thread.thread_id === state.threadId;
  item.classList.toggle("active", active);

  const open = document.createElement("button");
  open.type = "button";
  open.className = "thread-open";
  if (active) open.setAttribute("aria-current", "true");
  const title = document.createElement("span");
  title.className = "thread-title";
  title.textContent = titleOf(thread);
  const time = document.createElement("time");
  time.className = "thread-time";
  time.dateTime = thread.updated_at;
  time.textContent = when(thread.updated_at);
  open.append(title, time);
  open.addEventListener("click", () => guard(() => openThread(thread.thread_id)));

  const rename = document.createElement("button");
  rename.type = "button";
  rename.className = "thread-icon";
  rename.append(icon(PENCIL));
  rename.setAttribute("aria-label", `Rename conversation: ${title.textContent}`);
  rename.title = "Rename conversation";
  rename.addEventListener("click", () => startRename(item, thread));

  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "thread-icon thread-delete";
  remove.append(icon(TRASH));
  remove.setAttribute("aria-label", `Delete conversation: ${title.textContent}`);
  remove.title = "Delete conversation";
  remove.addEventListener("click", () => guard(() => deleteThread(thread.thread_id, title.textContent)));

  item.append(open, rename, remove);
  return item;
}

function startRename(item, thread) {
  const field = document.createElement("input");
  field.className = "rename";
  field.value = titleOf(thread);
  field.setAttribute("aria-label", "New title");
  let done = false;
  const finish = (save) => {
    if (done) return;
    done = true;
    const title = field.value.trim();
    if (save && title && title !== titleOf(thread)) guard(() => renameThread(thread.thread_id, title));
    else renderThreads();
  };
  field.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      finish(true);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      finish(false);
    }
  });
  field.addEventListener("blur", () => finish(true));
  item.replaceChildren(field);
  field.focus();
  field.select();
}

async function renameThread(threadId, title) {
  await json(threadPath(threadId), { method: "PATCH", body: { metadata: { title } } });
  if (threadId === state.threadId) {
    state.threadTitle = title;
    els.title.textContent = title;
  }
  await loadThreads();
}

// ---- conversation: messages, branches, actions ----------------------------------

const messagesOf = (s) => (s && s.values && Array.isArray(s.values.messages) ? s.values.messages : []);

function commonPrefix(a, b) {
  let n = 0;
  while (n < a.length && n < b.length && a[n].id === b[n].id) n += 1;
  return n;
}

let branchCache = null;

function branchIndex() {
  // One pass over the history for the messages shown: where each message first appears
  // (agent-chat-ui's firstSeenState), and how many of the shown messages each state shares.
  if (branchCache && branchCache.history === state.history && branchCache.messages === state.messages) {
    return branchCache;
  }
  const states = [...state.history].reverse(); // oldest first
  const firstSeen = new Map();
  const shared = [];
  for (const s of states) {
    const messages = messagesOf(s);
    for (const m of messages) if (m.id && !firstSeen.has(m.id)) firstSeen.set(m.id, s);
    shared.push(commonPrefix(messages, state.messages));
  }
  const byId = new Map(state.history.map((s) => [s.checkpoint && s.checkpoint.checkpoint_id, s]));
  branchCache = { history: state.history, messages: state.messages, states, firstSeen, shared, byId };
  return branchCache;
}

function forkPoint(messageId) {
  // The checkpoint before the message: the parent of the oldest state holding it, if that
  // parent was read and does not hold it (else the history read so far starts too late).
  const { firstSeen, byId } = branchIndex();
  const seen = firstSeen.get(messageId);
  const parent = seen && seen.parent_checkpoint;
  const before = parent && byId.get(parent.checkpoint_id);
  return before && !messagesOf(before).some((m) => m.id === messageId) ? parent : null;
}

function mayEdit(messageId) {
  // Known fork point, or one that older history (not read yet) may hold.
  return Boolean(forkPoint(messageId)) || !state.historyComplete;
}

function historyLimit() {
  return Math.max(10, Math.min(HISTORY_LIMIT, Math.floor(HISTORY_BUDGET / Math.max(1, state.messages.length))));
}

async function findForkPoint(messageId) {
  // Read older checkpoints, a page at a time, until the one before the message turns up.
  let point = forkPoint(messageId);
  while (!point && !state.historyComplete && state.history.length) {
    const oldest = state.history[state.history.length - 1].checkpoint.checkpoint_id;
    const limit = historyLimit();
    const older = await json(`${threadPath(state.threadId)}/history`, {
      method: "POST",
      body: { limit, before: { configurable: { checkpoint_id: oldest } } },
    });
    state.history = state.history.concat(older || []);
    state.historyComplete = !older || older.length < limit;
    point = forkPoint(messageId);
  }
  return point;
}

function versions(index) {
  // Every message that stood at this place after the same earlier messages, oldest first.
  const { states, shared } = branchIndex();
  const shown = state.messages;
  const ids = [];
  states.forEach((s, k) => {
    const messages = messagesOf(s);
    if (shared[k] < index || messages.length <= index) return;
    const candidate = messages[index];
    if (candidate.type === shown[index].type && !ids.includes(candidate.id)) ids.push(candidate.id);
  });
  if (!ids.includes(shown[index].id)) ids.push(shown[index].id);
  return ids;
}

function showVersion(index, messageId) {
  // Show the longest (then newest) branch that has this version at this place.
  const { states, shared } = branchIndex();
  let best = null;
  for (let k = states.length - 1; k >= 0; k -= 1) {
    const messages = messagesOf(states[k]);
    if (shared[k] < index || messages.length <= index || messages[index].id !== messageId) continue;
    if (!best || messages.length > messagesOf(best).length) best = states[k];
  }
  if (!best) return;
  const latest = state.history[0];
  const isLatest = latest && best.checkpoint.checkpoint_id === latest.checkpoint.checkpoint_id;
  state.viewCheckpoint = isLatest ? null : best.checkpoint;
  state.messages = messagesOf(best);
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
  if (kind === "human") body.textContent = text;
  else renderMarkdown(body, text);
  const actions = document.createElement("div");
  actions.className = "actions";
  item.append(who, body, actions);
  return item;
}

function addMessage(kind, text) {
  const item = messageItem(kind, text);
  els.messages.append(item);
  els.emptyHint.hidden = true;
  item.scrollIntoView({ block: "end" });
  return item;
}

async function copyText(text, control) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {
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

function branchSwitcher(index) {
  const ids = versions(index);
  if (ids.length < 2) return null;
  const position = ids.indexOf(state.messages[index].id);
  const box = document.createElement("span");
  box.className = "branches";
  const previous = button("‹", "plain icon waits", () => showVersion(index, ids[position - 1]));
  previous.setAttribute("aria-label", "Previous version");
  previous.dataset.blocked = position === 0 ? "yes" : "";
  const label = document.createElement("span");
  label.className = "branch-label";
  label.textContent = `${position + 1} / ${ids.length}`;
  const next = button("›", "plain icon waits", () => showVersion(index, ids[position + 1]));
  next.setAttribute("aria-label", "Next version");
  next.dataset.blocked = position === ids.length - 1 ? "yes" : "";
  box.append(previous, label, next);
  return box;
}

function renderMessages() {
  els.messages.replaceChildren();
  const shown = state.messages;
  const lastAi = shown.map((m) => m.type).lastIndexOf("ai");
  shown.forEach((message, index) => {
    if (message.type !== "human" && message.type !== "ai") return;
    const text = textOf(message.content);
    const item = messageItem(message.type, text);
    item.dataset.messageId = message.id || "";
    const actions = item.querySelector(".actions");
    const switcher = message.id ? branchSwitcher(index) : null;
    if (switcher) actions.append(switcher);
    const copy = button("Copy", "plain", () => copyText(text, copy), "Copy this message");
    actions.append(copy);
    if (message.type === "human" && mayEdit(message.id)) {
      actions.append(button("Edit", "plain waits", () => startEdit(index), "Edit this message and answer it again"));
    }
    if (index === lastAi && mayEdit(message.id)) {
      actions.append(button("Regenerate", "plain waits", () => run(() => regenerate(index)), "Write this reply again"));
    }
    if (message.type === "human" && index === shown.length - 1 && mayEdit(message.id)) {
      // Left without a reply (stopped, or the model failed): ask again from before it.
      actions.append(button("Retry", "plain waits", () => run(() => submitEdit(index, text)), "Answer this message again"));
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

function startEdit(index) {
  if (state.busy) return;
  const item = els.messages.querySelector(`.message[data-message-id="${CSS.escape(state.messages[index].id)}"]`);
  if (!item) return;
  const field = document.createElement("textarea");
  field.className = "edit-box";
  field.setAttribute("aria-label", "Edit message");
  field.value = textOf(state.messages[index].content);
  field.rows = Math.min(8, field.value.split("\n").length + 1);
  const save = button("Save and send", "primary", () => {
    const text = field.value.trim();
    if (text) run(() => submitEdit(index, text));
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

async function refreshThread() {
  // The thread as the server has it: its latest state, then its newest checkpoints.
  const id = state.threadId;
  const threadState = await json(`${threadPath(id)}/state`);
  if (id !== state.threadId) return null; // another conversation was opened meanwhile
  const values = (threadState && threadState.values) || {};
  state.messages = values.messages || [];
  const limit = historyLimit();
  const history = await json(`${threadPath(id)}/history`, { method: "POST", body: { limit } });
  if (id !== state.threadId) return null;
  state.history = history || [];
  state.historyComplete = state.history.length < limit;
  state.viewCheckpoint = null;
  renderMessages();
  rememberLanguage(values);
  return values;
}

async function openThread(threadId) {
  const thread = await json(threadPath(threadId));
  state.threadId = threadId;
  state.threadTitle = (thread.metadata && thread.metadata.title) || "";
  notify("");
  const values = (await refreshThread()) || {};
  setLanguage(values.language);
  rememberLanguage(values);
  els.title.textContent = titleOf({ metadata: thread.metadata, values });
  if (!state.messages.length) els.title.textContent = state.threadTitle || "New conversation";
  history.replaceState(null, "", `#${threadId}`);
  markActive();
  els.input.focus();
}

function newConversation() {
  state.threadId = null;
  state.threadTitle = "";
  state.messages = [];
  state.history = [];
  state.historyComplete = true;
  state.viewCheckpoint = null;
  renderMessages();
  notify("");
  els.title.textContent = "New conversation";
  setLanguage(""); // a new thread replies in the language its user writes, unless one is chosen
  state.languageChanged = true; // a new thread gets the language chosen before its first message
  rememberLanguage({});
  history.replaceState(null, "", location.pathname);
  markActive();
  els.input.focus();
}

function markActive() {
  for (const item of els.threads.children) {
    const active = item.dataset.threadId === state.threadId;
    item.classList.toggle("active", active);
    const open = item.querySelector(".thread-open");
    if (!open) continue;
    if (active) open.setAttribute("aria-current", "true");
    else open.removeAttribute("aria-current");
  }
}

async function deleteThread(threadId, label) {
  if (!window.confirm(`Delete the conversation “${label}”? This cannot be undone.`)) return;
  await request(threadPath(threadId), { method: "DELETE" });
  if (state.threadId === threadId) newConversation();
  await loadThreads();
}

// ---- sending, streaming and stopping -----------------------------------------

async function* serverSentEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) yield { event, data: data.join("\n") };
    }
  }
}

function errorText(data) {
  try {
    const parsed = JSON.parse(data);
    return [parsed.error, parsed.message].filter(Boolean).join(": ") || data;
  } catch (_) {
    return data;
  }
}

async function streamRun({ input, checkpoint, keep, humanText }) {
  // Show `keep`, the new message (if any) and the reply as it streams; then the stored thread.
  clearError();
  notify("");
  state.messages = keep;
  renderMessages();
  if (humanText !== undefined) addMessage("human", humanText);
  const replyItem = addMessage("ai", "");
  const reply = replyItem.querySelector(".body");
  replyItem.classList.add("streaming");
  let text = "";
  let resolveId;
  const current = { threadId: state.threadId, runId: null, stopping: false };
  current.idKnown = new Promise((resolve) => (resolveId = resolve));
  state.run = current;
  els.stop.hidden = false;
  const body = { assistant_id: GRAPH_ID, input, stream_mode: ["messages-tuple"] };
  if (checkpoint) body.checkpoint = checkpoint;
  try {
    const response = await request(`${threadPath(current.threadId)}/runs/stream`, { method: "POST", body });
    state.languageChanged = false;
    const location = response.headers.get("Content-Location") || "";
    const fromHeader = location.match(/\/runs\/([^/?]+)/);
    if (fromHeader) resolveId((current.runId = fromHeader[1]));
    for await (const { event, data } of serverSentEvents(response)) {
      if (event === "metadata") {
        const meta = JSON.parse(data);
        if (meta && meta.run_id && !current.runId) resolveId((current.runId = meta.run_id));
      } else if (event === "messages") {
        if (current.stopping) continue;
        const [chunk, metadata] = JSON.parse(data);
        const isAi = chunk && (chunk.type === "AIMessageChunk" || chunk.type === "ai");
        if (isAi && (!metadata || metadata.langgraph_node === "model")) {
          text += textOf(chunk.content);
          renderMarkdown(reply, text);
          replyItem.scrollIntoView({ block: "end" });
        }
      } else if (event === "error" && !current.stopping) {
        throw new ApiError(`The reply failed: ${errorText(data)}`);
      }
    }
    if (!text && !current.stopping) reply.textContent = "(no reply)";
  } catch (err) {
    if (!current.stopping) {
      replyItem.classList.add("failed");
      if (!text) reply.textContent = "(no reply)";
      if (humanText !== undefined && !els.input.value) els.input.value = humanText; // to send again
      throw err;
    }
  } finally {
    resolveId(null);
    replyItem.classList.remove("streaming");
    state.run = null;
    els.stop.hidden = true;
  }
  if (current.stopping) await current.cancelled;
  if (current.threadId === state.threadId) await refreshThread();
  if (current.stopping) notify("Reply stopped: the thread keeps your message, without a reply.");
  await loadThreads().catch(() => {});
}

async function stop() {
  // Stop on the server (runs.cancel, action interrupt), not just in the page.
  const current = state.run;
  if (!current || current.stopping) return;
  current.stopping = true;
  els.stop.disabled = true;
  current.cancelled = (async () => {
    const runId = await current.idKnown;
    if (!runId) return;
    await request(`${threadPath(current.threadId)}/runs/${encodeURIComponent(runId)}/cancel?wait=1&action=interrupt`, {
      method: "POST",
    });
    // The run has ended; the thread says so a moment later (until then it reads as busy,
    // with no state). Wait for that, so the page shows what the stop left.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const thread = await json(threadPath(current.threadId));
      if (!thread || thread.status !== "busy") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })().catch((err) => showError(err.message || String(err)));
  await current.cancelled;
  els.stop.disabled = false;
}

async function send(text) {
  if (!state.threadId) {
    const thread = await json("/threads", { method: "POST", body: { metadata: { graph_id: GRAPH_ID } } });
    state.threadId = thread.thread_id;
    state.threadTitle = "";
    state.history = [];
    state.historyComplete = true;
    state.languageChanged = true;
    state.storedLanguage = "";
    history.replaceState(null, "", `#${state.threadId}`);
    els.title.textContent = shorten(text);
  }
  const input = { messages: [{ role: "user", content: text }] };
  // "" clears a language the thread had set; a thread without one is sent none.
  const chosen = els.language.value;
  if (state.languageChanged && (chosen || state.storedLanguage)) input.language = chosen;
  await streamRun({ input, checkpoint: state.viewCheckpoint, keep: state.messages, humanText: text });
}

async function submitEdit(index, text) {
  // agent-chat-ui's edit: a run with the new message from the checkpoint before the old one.
  const checkpoint = await findForkPoint(state.messages[index].id);
  if (!checkpoint) throw new ApiError("This message is older than the checkpoints the thread keeps, so it cannot be edited.");
  const input = { messages: [{ role: "user", content: text }] };
  await streamRun({ input, checkpoint, keep: state.messages.slice(0, index), humanText: text });
}

async function regenerate(index) {
  // agent-chat-ui's regenerate: a run with no input from the checkpoint before the reply.
  const checkpoint = await findForkPoint(state.messages[index].id);
  if (!checkpoint) throw new ApiError("This reply is older than the checkpoints the thread keeps.");
  await streamRun({ input: null, checkpoint, keep: state.messages.slice(0, index) });
}

// ---- export and import ----------------------------------------------------------

function exportedMessages() {
  return state.messages
    .filter((m) => m.type === "human" || m.type === "ai")
    .map((m) => ({ role: m.type === "human" ? "user" : "assistant", content: textOf(m.content) }));
}

function conversationTitle() {
  return state.threadTitle || els.title.textContent || "Conversation";
}

function exportJson() {
  const data = {
    format: EXPORT_FORMAT,
    version: 1,
    title: conversationTitle(),
    language: els.language.value || null,
    thread_id: state.threadId,
    exported_at: new Date().toISOString(),
    messages: exportedMessages(),
  };
  return JSON.stringify(data, null, 2) + "\n";
}

function exportMarkdown() {
  const parts = [`# ${conversationTitle()}`, ""];
  for (const message of exportedMessages()) {
    parts.push(`**${message.role === "user" ? "You" : "Bot"}:**`, "", message.content, "");
  }
  return parts.join("\n");
}

function download(text, extension, type) {
  const slug = conversationTitle().toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40) || "conversation";
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type }));
  link.download = `${slug}.${extension}`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

function parseExport(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (_) {
    throw new ApiError("That file is not JSON: import takes a conversation exported as JSON.");
  }
  const messages = data && Array.isArray(data.messages) ? data.messages : null;
  if (!data || data.format !== EXPORT_FORMAT || !messages || !messages.length) {
    throw new ApiError(`That file is not a conversation export (a JSON object with "format": "${EXPORT_FORMAT}" and messages).`);
  }
  messages.forEach((m, i) => {
    if (!m || !["user", "assistant"].includes(m.role) || typeof m.content !== "string" || !m.content.trim()) {
      throw new ApiError(`Message ${i + 1} of the file needs a role "user" or "assistant" and some text.`);
    }
  });
  return data;
}

async function importConversation(file) {
  const data = parseExport(await file.text());
  const values = { messages: data.messages.map((m) => ({ role: m.role, content: m.content })) };
  if (typeof data.language === "string" && data.language.trim()) values.language = data.language;
  const metadata = { graph_id: GRAPH_ID };
  if (typeof data.title === "string" && data.title.trim()) metadata.title = data.title.trim();
  // One request creates the thread and writes its messages as the node that ends a turn
  // (from the graph's own drawing), so nothing is left to run and no model is called.
  const graph = await json(`/assistants/${GRAPH_ID}/graph`);
  const ends = ((graph && graph.edges) || []).filter((e) => e.target === "__end__").map((e) => e.source);
  if (ends.length !== 1) throw new ApiError(`Cannot import: the graph has ${ends.length} nodes that end a turn.`);
  const thread = await json("/threads", {
    method: "POST",
    body: { metadata, supersteps: [{ updates: [{ values, as_node: ends[0] }] }] },
  });
  await loadThreads();
  await openThread(thread.thread_id);
  notify(`Imported ${values.messages.length} messages as a new conversation.`);
}

// ---- wiring ------------------------------------------------------------------

async function guard(action) {
  try {
    await action();
  } catch (err) {
    showError(err instanceof ApiError ? err.message : `Something went wrong: ${err.message || err}`);
  }
}

function setBusy(busy) {
  state.busy = busy;
  els.send.disabled = busy;
  els.composer.setAttribute("aria-busy", String(busy));
  for (const control of els.messages.querySelectorAll(".actions button.waits")) {
    control.disabled = busy || control.dataset.blocked === "yes";
  }
}

function run(action) {
  // One reply at a time from this page: sending, editing and regenerating share the composer.
  if (state.busy) return Promise.resolve();
  setBusy(true);
  return guard(action).finally(() => {
    setBusy(false);
    els.input.focus();
  });
}

els.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = els.input.value.trim();
  if (!text || state.busy) return;
  els.input.value = "";
  run(() => send(text));
});

els.input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    els.composer.requestSubmit();
  } else if (event.key === "ArrowUp" && !els.input.value && !state.busy) {
    const last = state.messages.map((m) => m.type).lastIndexOf("human");
    if (last >= 0 && mayEdit(state.messages[last].id)) {
      event.preventDefault();
      startEdit(last);
    }
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && state.run) {
    event.preventDefault();
    stop();
  }
});

els.stop.addEventListener("click", () => stop());
els.language.addEventListener("change", () => {
  state.languageChanged = true;
  showReplyLanguage();
});
els.newThread.addEventListener("click", newConversation);
els.errorClose.addEventListener("click", clearError);
els.search.addEventListener("input", renderThreads);
els.exportMd.addEventListener("click", () => download(exportMarkdown(), "md", "text/markdown"));
els.exportJson.addEventListener("click", () => download(exportJson(), "json", "application/json"));
els.importButton.addEventListener("click", () => els.importFile.click());
els.importFile.addEventListener("change", () => {
  const [file] = els.importFile.files;
  els.importFile.value = "";
  if (file) guard(() => importConversation(file));
});

window.addEventListener("hashchange", () => {
  // A link or a typed address to another conversation (#thread-id) opens it.
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (state.busy || wanted === (state.threadId || "")) return;
  guard(() => (wanted ? openThread(wanted) : Promise.resolve(newConversation())));
});

async function start() {
  await guard(async () => {
    await loadThreads();
    const wanted = decodeURIComponent(location.hash.slice(1));
    if (wanted) await openThread(wanted);
    else newConversation();
  });
  try {
    const info = await json("/chatbot/model");
    els.modelInfo.textContent = `Model: ${info.model} (${info.endpoint})`;
  } catch (_) {
    /* optional */
  }
}

start();
