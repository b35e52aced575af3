// What the page's parts share: its elements, the open conversation's state, the error
// banner and notices, and the one-reply-at-a-time rule.
import { ApiError } from "./api.js";

const $ = (id) => document.getElementById(id);

export const els = {
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
};

export const state = {
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

export function showError(message) {
  els.errorText.textContent = message;
  els.error.hidden = false;
}

export function clearError() {
  els.error.hidden = true;
  els.errorText.textContent = "";
}

/** Show the open conversation's title in the header; its tooltip keeps it whole when cut. */
export function showTitle(text) {
  els.title.textContent = text;
  els.title.title = text;
}

export function notify(message) {
  els.notice.textContent = message;
}

/** Run an action; show what went wrong in the banner instead of throwing. */
export async function guard(action) {
  try {
    await action();
  } catch (err) {
    showError(err instanceof ApiError ? err.message : `Something went wrong: ${err.message || err}`);
  }
}

export function setBusy(busy) {
  state.busy = busy;
  els.send.disabled = busy;
  els.composer.setAttribute("aria-busy", String(busy));
  for (const control of els.messages.querySelectorAll(".actions button.waits")) {
    control.disabled = busy || control.dataset.blocked === "yes";
  }
}

/** One reply at a time from this page: sending, editing and regenerating share the composer. */
export function run(action) {
  if (state.busy) return Promise.resolve();
  setBusy(true);
  return guard(action).finally(() => {
    setBusy(false);
    els.input.focus();
  });
}

export function button(label, className, onClick, title) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className;
  b.textContent = label;
  if (title) b.title = title;
  b.addEventListener("click", onClick);
  return b;
}
