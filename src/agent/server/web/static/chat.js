// The open conversation: opening one, starting one, and its runs (send, edit, regenerate,
// stop), streamed into the message list.
import { ApiError, json, request, threadPath, whoami } from "./api.js";
import { textOf } from "./conversation.js";
import { rememberLanguage, setLanguage } from "./language.js";
import { renderMarkdown } from "./markdown.js";
import { addMessage, findForkPoint, historyLimit, renderMessages } from "./messages.js";
import { clearError, els, notify, showError, showTitle, state } from "./page.js";
import { loadThreads, markActive, shownTitle } from "./sidebar.js";
import { errorText, serverSentEvents } from "./stream.js";

/** The thread as the server has it: its latest state, then its newest checkpoints. */
async function refreshThread() {
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

/** Open a conversation; with `messageId` (a search's hit), scroll to that message and mark it. */
export async function openThread(threadId, messageId = null) {
  const thread = await json(threadPath(threadId));
  state.threadId = threadId;
  state.threadTitle = (thread.metadata && thread.metadata.title) || "";
  notify("");
  const values = (await refreshThread()) || {};
  setLanguage(values.language);
  rememberLanguage(values);
  const shown = state.messages.length ? shownTitle({ metadata: thread.metadata, values }) : "";
  showTitle(shown || state.threadTitle || "New conversation");
  window.history.replaceState(null, "", `#${threadId}`);
  markActive();
  els.input.focus();
  if (messageId) showMessage(messageId);
}

function showMessage(messageId) {
  const item = els.messages.querySelector(`.message[data-message-id="${CSS.escape(messageId)}"]`);
  if (!item) return; // no longer on the conversation's branch
  for (const old of els.messages.querySelectorAll(".message.found")) old.classList.remove("found");
  item.classList.add("found");
  item.scrollIntoView({ block: "center" });
}

export function newConversation() {
  state.threadId = null;
  state.threadTitle = "";
  state.messages = [];
  state.history = [];
  state.historyComplete = true;
  state.viewCheckpoint = null;
  renderMessages();
  notify("");
  showTitle("New conversation");
  setLanguage(""); // a new thread replies in the language its user writes, unless one is chosen
  state.languageChanged = true; // a new thread gets the language chosen before its first message
  rememberLanguage({});
  window.history.replaceState(null, "", window.location.pathname);
  markActive();
  els.input.focus();
}

/** Show `keep`, the new message (if any) and the reply as it streams; then the stored thread. */
async function streamRun({ input, checkpoint, keep, humanText }) {
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
  try {
    const { graph_id: graphId } = await whoami();
    const body = { assistant_id: graphId, input, stream_mode: ["messages-tuple"] };
    if (checkpoint) body.checkpoint = checkpoint;
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

/** Stop the reply on the server (runs.cancel, action interrupt), not just in the page. */
export async function stop() {
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

/** Send a message: to the open thread (from the branch shown), or to a new one. */
export async function send(text) {
  if (!state.threadId) {
    const { graph_id: graphId } = await whoami();
    const thread = await json("/threads", { method: "POST", body: { metadata: { graph_id: graphId } } });
    state.threadId = thread.thread_id;
    state.threadTitle = "";
    state.history = [];
    state.historyComplete = true;
    state.languageChanged = true;
    state.storedLanguage = "";
    window.history.replaceState(null, "", `#${state.threadId}`);
    showTitle(shownTitle({ values: { messages: [{ type: "human", content: text }] } }));
  }
  const input = { messages: [{ role: "user", content: text }] };
  // "" clears a language the thread had set; a thread without one is sent none.
  const chosen = els.language.value;
  if (state.languageChanged && (chosen || state.storedLanguage)) input.language = chosen;
  await streamRun({ input, checkpoint: state.viewCheckpoint, keep: state.messages, humanText: text });
}

/** agent-chat-ui's edit: a run with the new message from the checkpoint before the old one. */
export async function submitEdit(place, text) {
  const checkpoint = await findForkPoint(state.messages[place].id);
  if (!checkpoint) throw new ApiError("This message is older than the checkpoints the thread keeps, so it cannot be edited.");
  const input = { messages: [{ role: "user", content: text }] };
  await streamRun({ input, checkpoint, keep: state.messages.slice(0, place), humanText: text });
}

/** agent-chat-ui's regenerate: a run with no input from the checkpoint before the reply. */
export async function regenerate(place) {
  const checkpoint = await findForkPoint(state.messages[place].id);
  if (!checkpoint) throw new ApiError("This reply is older than the checkpoints the thread keeps.");
  await streamRun({ input: null, checkpoint, keep: state.messages.slice(0, place) });
}
