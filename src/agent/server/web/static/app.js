// The chat page: vanilla JS against the LangGraph server's own API.
"use strict";

const GRAPH_ID = "chatbot";
const TOKEN_KEY = "chatbot.token";
const API = new URL("..", document.baseURI).href.replace(/\/$/, "");

const $ = (id) => document.getElementById(id);
const els = {
  threads: $("threads"),
  threadsEmpty: $("threads-empty"),
  newThread: $("new-thread"),
  title: $("thread-title"),
  language: $("language"),
  messages: $("messages"),
  emptyHint: $("empty-hint"),
  composer: $("composer"),
  input: $("input"),
  send: $("send"),
  error: $("error"),
  errorText: $("error-text"),
  errorClose: $("error-close"),
  modelInfo: $("model-info"),
  tokenDialog: $("token-dialog"),
  tokenInput: $("token-input"),
};

const state = {
  threadId: null, // the open conversation; null until the first message of a new one
  languageChanged: false, // the selector differs from what the thread has stored
  busy: false,
};

// ---- errors -----------------------------------------------------------------

class ApiError extends Error {}

function showError(message) {
  els.errorText.textContent = message;
  els.error.hidden = false;
}

function clearError() {
  els.error.hidden = true;
  els.errorText.textContent = "";
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

function firstWords(thread) {
  const messages = (thread.values && thread.values.messages) || [];
  const first = messages.find((m) => m.type === "human") || messages[0];
  const text = first ? textOf(first.content).trim() : "";
  return text ? (text.length > 60 ? `${text.slice(0, 60)}…` : text) : "New conversation";
}

function setLanguage(language) {
  const value = language || "English";
  if (![...els.language.options].some((o) => o.value === value)) {
    els.language.add(new Option(value, value));
  }
  els.language.value = value;
  state.languageChanged = false;
}

function trashIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "16");
  svg.setAttribute("height", "16");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", "M4 7h16M10 11v6M14 11v6M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V4h6v3");
  path.setAttribute("fill", "none");
  path.setAttribute("stroke", "currentColor");
  path.setAttribute("stroke-width", "2");
  path.setAttribute("stroke-linecap", "round");
  path.setAttribute("stroke-linejoin", "round");
  svg.append(path);
  return svg;
}

// ---- sidebar ------------------------------------------------------------------

async function loadThreads() {
  const threads = await json("/threads/search", {
    method: "POST",
    body: { limit: 100, sort_by: "updated_at", sort_order: "desc" },
  });
  els.threads.replaceChildren();
  for (const thread of threads) {
    const item = document.createElement("li");
    item.className = "thread";
    item.dataset.threadId = thread.thread_id;
    if (thread.thread_id === state.threadId) item.classList.add("active");

    const open = document.createElement("button");
    open.type = "button";
    open.className = "thread-open";
    if (thread.thread_id === state.threadId) open.setAttribute("aria-current", "true");
    const title = document.createElement("span");
    title.className = "thread-title";
    title.textContent = firstWords(thread);
    const time = document.createElement("time");
    time.className = "thread-time";
    time.dateTime = thread.updated_at;
    time.textContent = when(thread.updated_at);
    open.append(title, time);
    open.addEventListener("click", () => guard(() => openThread(thread.thread_id)));

    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "thread-delete";
    remove.append(trashIcon());
    remove.setAttribute("aria-label", `Delete conversation: ${title.textContent}`);
    remove.title = "Delete conversation";
    remove.addEventListener("click", () => guard(() => deleteThread(thread.thread_id, title.textContent)));

    item.append(open, remove);
    els.threads.append(item);
  }
  els.threadsEmpty.hidden = threads.length > 0;
}

// ---- conversation ------------------------------------------------------------

function addMessage(kind, text) {
  const item = document.createElement("li");
  item.className = `message ${kind}`;
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = kind === "human" ? "You" : "Bot";
  const body = document.createElement("div");
  body.className = "body";
  body.textContent = text;
  item.append(who, body);
  els.messages.append(item);
  els.emptyHint.hidden = true;
  item.scrollIntoView({ block: "end" });
  return body;
}

function renderMessages(messages) {
  els.messages.replaceChildren();
  for (const message of messages) {
    if (message.type !== "human" && message.type !== "ai") continue;
    addMessage(message.type, textOf(message.content));
  }
  els.emptyHint.hidden = els.messages.children.length > 0;
}

async function openThread(threadId) {
  const threadState = await json(`/threads/${encodeURIComponent(threadId)}/state`);
  const values = (threadState && threadState.values) || {};
  state.threadId = threadId;
  renderMessages(values.messages || []);
  setLanguage(values.language);
  const first = (values.messages || []).find((m) => m.type === "human");
  els.title.textContent = first ? firstWords({ values }) : "New conversation";
  history.replaceState(null, "", `#${threadId}`);
  markActive();
  els.input.focus();
}

function newConversation() {
  state.threadId = null;
  els.messages.replaceChildren();
  els.emptyHint.hidden = false;
  els.title.textContent = "New conversation";
  setLanguage(els.language.value);
  state.languageChanged = true; // a new thread always gets the chosen language
  history.replaceState(null, "", location.pathname);
  markActive();
  els.input.focus();
}

function markActive() {
  for (const item of els.threads.children) {
    const active = item.dataset.threadId === state.threadId;
    item.classList.toggle("active", active);
    const open = item.querySelector(".thread-open");
    if (active) open.setAttribute("aria-current", "true");
    else open.removeAttribute("aria-current");
  }
}

async function deleteThread(threadId, label) {
  if (!window.confirm(`Delete the conversation “${label}”? This cannot be undone.`)) return;
  await request(`/threads/${encodeURIComponent(threadId)}`, { method: "DELETE" });
  if (state.threadId === threadId) newConversation();
  await loadThreads();
}

// ---- sending and streaming ---------------------------------------------------

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

async function send(text) {
  clearError();
  if (!state.threadId) {
    const thread = await json("/threads", { method: "POST", body: { metadata: { graph_id: GRAPH_ID } } });
    state.threadId = thread.thread_id;
    state.languageChanged = true;
    history.replaceState(null, "", `#${state.threadId}`);
    els.title.textContent = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  }
  const input = { messages: [{ role: "user", content: text }] };
  if (state.languageChanged) input.language = els.language.value;

  addMessage("human", text);
  const reply = addMessage("ai", "");
  reply.parentElement.classList.add("streaming");
  try {
    const response = await request(`/threads/${encodeURIComponent(state.threadId)}/runs/stream`, {
      method: "POST",
      body: { assistant_id: GRAPH_ID, input, stream_mode: ["messages-tuple"] },
    });
    state.languageChanged = false;
    for await (const { event, data } of serverSentEvents(response)) {
      if (event === "messages") {
        const [chunk, metadata] = JSON.parse(data);
        const isAi = chunk && (chunk.type === "AIMessageChunk" || chunk.type === "ai");
        if (isAi && (!metadata || metadata.langgraph_node === "model")) {
          reply.textContent += textOf(chunk.content);
          reply.parentElement.scrollIntoView({ block: "end" });
        }
      } else if (event === "error") {
        throw new ApiError(`The reply failed: ${errorText(data)}`);
      }
    }
    if (!reply.textContent) reply.textContent = "(no reply)";
  } catch (err) {
    reply.parentElement.classList.add("failed");
    if (!reply.textContent) reply.textContent = "(no reply)";
    if (!els.input.value) els.input.value = text; // so it can be sent again
    throw err;
  } finally {
    reply.parentElement.classList.remove("streaming");
    await loadThreads().catch(() => {});
  }
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
}

els.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = els.input.value.trim();
  if (!text || state.busy) return;
  els.input.value = "";
  setBusy(true);
  guard(() => send(text)).finally(() => {
    setBusy(false);
    els.input.focus();
  });
});

els.input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    els.composer.requestSubmit();
  }
});

els.language.addEventListener("change", () => {
  state.languageChanged = true;
});
els.newThread.addEventListener("click", newConversation);
els.errorClose.addEventListener("click", clearError);

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
