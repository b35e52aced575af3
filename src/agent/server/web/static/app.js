// The chat page's entry: vanilla JS modules against the LangGraph server's own API, no
// build step. Each concern has its module; this one wires them to the page's controls.
//   api.js           the API: address, bearer token, errors
//   conversation.js  pure functions, mirroring agent/client/conversations.py
//   markdown.js      replies as sanitized Markdown
//   stream.js        server-sent events
//   page.js          elements, state, error banner, one reply at a time
//   language.js      the reply language
//   sidebar.js       the conversations list: search (the server's), rename, delete
//   messages.js      the messages shown, their actions and branch switchers
//   chat.js          open, new, send, edit, regenerate, stop
//   transfer.js      export and import
//   memory.js        "What I remember about you" (its own entry, loaded beside this one)
import { json } from "./api.js";
import { newConversation, openThread, regenerate, send, stop, submitEdit } from "./chat.js";
import { showReplyLanguage } from "./language.js";
import { mayEdit, messageActions, startEdit } from "./messages.js";
import { clearError, els, guard, run, state } from "./page.js";
import { loadThreads, searchThreads, sidebarHooks } from "./sidebar.js";
import { downloadJson, downloadMarkdown, importConversation } from "./transfer.js";

sidebarHooks({
  open: openThread,
  deleted: (threadId) => {
    if (state.threadId === threadId) newConversation();
  },
});

messageActions({
  edit: (place, text) => run(() => submitEdit(place, text)),
  regenerate: (place) => run(() => regenerate(place)),
});

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
els.search.addEventListener("input", searchThreads);
els.exportMd.addEventListener("click", downloadMarkdown);
els.exportJson.addEventListener("click", downloadJson);
els.importButton.addEventListener("click", () => els.importFile.click());
els.importFile.addEventListener("change", () => {
  const [file] = els.importFile.files;
  els.importFile.value = "";
  if (file) guard(() => importConversation(file));
});

/** The conversation (and message) the address names: #thread-id, or #thread-id/message-id. */
function addressed() {
  const [thread = "", message = ""] = window.location.hash.slice(1).split("/").map(decodeURIComponent);
  return { thread, message: message || null };
}

window.addEventListener("hashchange", () => {
  // A link or a typed address to another conversation (#thread-id) opens it; with
  // /message-id (as `chatbot search` prints), at that message.
  const wanted = addressed();
  if (state.busy || (wanted.thread === (state.threadId || "") && !wanted.message)) return;
  guard(() => (wanted.thread ? openThread(wanted.thread, wanted.message) : Promise.resolve(newConversation())));
});

async function start() {
  await guard(async () => {
    await loadThreads();
    const wanted = addressed();
    if (wanted.thread) await openThread(wanted.thread, wanted.message);
    else newConversation();
  });
  try {
    const info = await json("/chatbot/model");
    els.modelInfo.textContent = `Model: ${info.model} (${info.endpoint})`;
  } catch {
    /* optional */
  }
}

start();
