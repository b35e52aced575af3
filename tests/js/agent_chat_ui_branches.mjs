// Drive the server the way agent-chat-ui's page does, with the JS SDK it ships with.
//
//   node agent_chat_ui_branches.mjs <server-url> three   # edit the 2nd of 3, switch back, regenerate
//   node agent_chat_ui_branches.mjs <server-url> long    # 45 turns: edit turn 30, measure the window
//   node agent_chat_ui_branches.mjs <server-url> cancel  # the Cancel button mid-reply
//
// Prints one JSON object on stdout: what the page would show after every step (each
// message's text, id and branch switcher). tests/integration_tests/test_agent_chat_ui.py
// asserts on it.
//
// What the page is: langchain-ai/agent-chat-ui (commit fdc87e6, its pnpm-lock pins
// @langchain/langgraph-sdk 1.8.10 and @langchain/core 1.1.44, the versions of package.json
// here). Its StreamProvider (src/providers/Stream.tsx) calls
// useStream({fetchStateHistory: true, onCustomEvent, ...}); it submits a new message
// (src/components/thread/index.tsx handleSubmit), an edit (messages/human.tsx: the
// checkpoint is meta.firstSeenState.parent_checkpoint) and a regenerate
// (thread/index.tsx handleRegenerate with messages/ai.tsx's
// meta.firstSeenState.parent_checkpoint, input undefined), all with
// {streamMode: ["values"], streamSubgraphs: true, streamResumable: true}; its
// BranchSwitcher (messages/shared.tsx) shows when a message has branch and branchOptions
// and calls setBranch.
//
// The branch logic is the SDK's own: getBranchContext and getMessagesMetadataMap from
// "@langchain/langgraph-sdk/ui" (dist/ui/branching.js; useStream 1.8.10 inlines the same
// metadata code). The few lines of the hook around them (a React hook cannot run here)
// follow @langchain/langgraph-sdk 1.8.10 dist/react/stream.lgp.js, useStreamLGP:
//   - history: client.threads.getHistory(threadId, {limit: 10}) (fetchHistory, line 26:
//     fetchStateHistory true means limit 10), i.e. POST /threads/{id}/history
//     {"limit": 10}, fetched when the thread opens and again after every run (line 380);
//   - submit (lines 294-400): setBranch to the branch of the checkpoint submitted from
//     ("" without one); checkpoint = the one given, else the current branch's head
//     (threadHead.checkpoint), without thread_id; streamMode = the submit's, then the
//     modes the page's render read (messages: "messages-tuple", "values"), then the
//     callbacks' (onCustomEvent: "custom"); onDisconnect "continue" as streamResumable.
import { randomUUID } from "node:crypto";

import { Client } from "@langchain/langgraph-sdk";
import { getBranchContext, getMessagesMetadataMap } from "@langchain/langgraph-sdk/ui";

const HISTORY_LIMIT = 10;
const GRAPH_ID = "chatbot";
const SUBMIT = { streamMode: ["values"], streamSubgraphs: true, streamResumable: true };
const RENDER_MODES = ["messages-tuple", "values"];
const CALLBACK_MODES = ["custom"];

const unique = (items) => [...new Set(items)];

function text(message) {
  const { content } = message;
  if (typeof content === "string") return content;
  return content
    .filter((block) => block.type === "text")
    .map((block) => block.text)
    .join("");
}

/** One open agent-chat-ui page: its thread, fetched history and selected branch. */
class Page {
  constructor(url) {
    this.client = new Client({ apiUrl: url });
    this.threadId = null;
    this.history = [];
    this.branch = "";
    this.requests = [];
    this.runId = null;
  }

  async open(threadId) {
    this.threadId = threadId;
    this.branch = "";
    await this.fetchHistory();
  }

  async fetchHistory() {
    this.history = await this.client.threads.getHistory(this.threadId, { limit: HISTORY_LIMIT });
  }

  get branchContext() {
    return getBranchContext(this.branch, this.history);
  }

  get messages() {
    return this.branchContext.threadHead?.values?.messages ?? [];
  }

  /** What getMessagesMetadata(message) returns for every shown message. */
  get metadata() {
    return getMessagesMetadataMap({
      initialValues: {},
      history: this.history,
      getMessages: (values) => (Array.isArray(values.messages) ? values.messages : []),
      branchContext: this.branchContext,
    });
  }

  metaOf(message) {
    return this.metadata.find((meta) => meta.messageId === String(message.id));
  }

  setBranch(branch) {
    this.branch = branch;
  }

  /** useStreamLGP.submit, as the page calls it. */
  async submit(input, options = {}) {
    const context = this.branchContext;
    const checkpointId = options.checkpoint?.checkpoint_id;
    this.setBranch(
      checkpointId != null ? (context.branchByCheckpoint[checkpointId]?.branch ?? "") : "",
    );
    if (this.threadId == null) {
      this.threadId = (await this.client.threads.create({})).thread_id;
    }
    const streamMode = unique([...(options.streamMode ?? []), ...RENDER_MODES, ...CALLBACK_MODES]);
    let checkpoint = options.checkpoint ?? context.threadHead?.checkpoint ?? undefined;
    if (options.checkpoint === null) checkpoint = undefined;
    if (checkpoint != null) {
      checkpoint = { ...checkpoint };
      delete checkpoint.thread_id;
    }
    const streamResumable = options.streamResumable ?? false;
    this.requests.push({ input: input ?? null, checkpoint: checkpoint ?? null, streamMode });
    const errors = [];
    const controller = new AbortController();
    try {
      for await (const part of this.client.runs.stream(this.threadId, GRAPH_ID, {
        input,
        onDisconnect: streamResumable ? "continue" : "cancel",
        signal: controller.signal,
        checkpoint,
        streamMode,
        streamSubgraphs: options.streamSubgraphs,
        streamResumable,
        onRunCreated: (run) => {
          this.runId = run.run_id;
        },
      })) {
        if (part.event === "error") errors.push(part.data);
        if (options.cancelOnFirstValues && part.event === "values") {
          // The Cancel button: stream.stop() aborts the request (ui/manager.js line 520)
          // and, without reconnectOnMount, calls nothing else (stream.lgp.js 286-289).
          controller.abort();
          return;
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
      return;
    }
    if (errors.length) throw new Error(`run failed: ${JSON.stringify(errors)}`);
    await this.fetchHistory();
  }

  /** Thread.handleSubmit: a new message typed in the box. */
  send(words) {
    const message = { id: randomUUID(), type: "human", content: [{ type: "text", text: words }] };
    return this.submit({ messages: [message] }, SUBMIT);
  }

  /** HumanMessage.handleSubmitEdit. */
  edit(message, words) {
    const parentCheckpoint = this.metaOf(message)?.firstSeenState?.parent_checkpoint;
    return this.submit(
      { messages: [{ type: "human", content: words }] },
      { ...SUBMIT, checkpoint: parentCheckpoint },
    );
  }

  /** AssistantMessage's regenerate button: Thread.handleRegenerate(parentCheckpoint). */
  regenerate(message) {
    const parentCheckpoint = this.metaOf(message)?.firstSeenState?.parent_checkpoint;
    return this.submit(undefined, { ...SUBMIT, checkpoint: parentCheckpoint });
  }

  /** What the page shows: every message with its branch switcher, if it has one. */
  view() {
    const metadata = this.metadata;
    return this.messages.map((message) => {
      const meta = metadata.find((m) => m.messageId === String(message.id));
      const switcher =
        meta?.branch && meta?.branchOptions
          ? { branch: meta.branch, options: meta.branchOptions }
          : null;
      return { id: message.id, type: message.type, text: text(message), switcher };
    });
  }

  /** The fetched states, newest first: step, source, message count, index of the parent. */
  states() {
    const index = new Map(this.history.map((state, i) => [state.checkpoint.checkpoint_id, i]));
    return this.history.map((state) => [
      state.metadata?.step ?? null,
      state.metadata?.source ?? null,
      state.values?.messages?.length ?? 0,
      index.get(state.parent_checkpoint?.checkpoint_id) ?? null,
    ]);
  }

  humans() {
    return this.messages.filter((message) => message.type === "human");
  }

  /** Switch the branch switcher of `message` to its first option other than the current. */
  switchAway(message) {
    const meta = this.metaOf(message);
    if (!meta?.branch || !(meta.branchOptions?.length >= 2)) return false;
    this.setBranch(meta.branchOptions.find((option) => option !== meta.branch));
    return true;
  }
}

async function three(url) {
  const page = new Page(url);
  const steps = {};
  for (const words of ["First message", "Second message", "Third message"]) {
    await page.send(words);
  }
  steps.sent = page.view();
  const states = { sent: page.states() };
  const historyRequest = { limit: HISTORY_LIMIT, states: page.history.length };

  await page.edit(page.humans()[1], "Second message, edited");
  steps.edited = page.view();
  states.edited = page.states();

  const edited = page.humans()[1];
  steps.switched = page.switchAway(edited) ? page.view() : null;

  const lastReply = page.messages.at(-1);
  await page.regenerate(lastReply);
  steps.regenerated = page.view();
  states.regenerated = page.states();

  // The regenerated reply's switcher, back to the reply it replaced.
  const regeneratedReply = page.messages.at(-1);
  steps.replyBack = page.switchAway(regeneratedReply) ? page.view() : null;

  // The edit's switcher (on whichever message the page draws it), to the edited branch.
  const editOptions = JSON.stringify(steps.edited.find((m) => m.switcher)?.switcher?.options);
  const withEditSwitcher = page
    .view()
    .find((m) => JSON.stringify(m.switcher?.options) === editOptions);
  steps.toEditedBranch =
    withEditSwitcher && page.switchAway(page.messages.find((m) => m.id === withEditSwitcher.id))
      ? page.view()
      : null;

  // The page opened afresh on the thread (a reload, branch ""): at every fork the SDK
  // shows the newest child.
  const reloaded = new Page(url);
  await reloaded.open(page.threadId);
  steps.reloaded = reloaded.view();

  return { threadId: page.threadId, historyRequest, requests: page.requests, steps, states };
}

async function cancel(url) {
  const page = new Page(url);
  await page.send("First message");
  const message = { id: randomUUID(), type: "human", content: [{ type: "text", text: "Tell me more" }] };
  await page.submit({ messages: [message] }, { ...SUBMIT, cancelOnFirstValues: true });
  const shownAtCancel = page.view();
  // Not the page: wait for the run the page left behind, then read what the page will show.
  await page.client.runs.join(page.threadId, page.runId);
  const run = await page.client.runs.get(page.threadId, page.runId);
  await page.fetchHistory();
  return { runStatus: run.status, shownAtCancel, shownAfter: page.view() };
}

/** Transcript texts of a thread's current values, read by the test (not by the page). */
async function transcript(client, threadId) {
  const state = await client.threads.getState(threadId);
  return state.values.messages.map(text);
}

/** Edit turn `turn` (1-based) the way the page does, on a copy of `threadId`; what it did. */
async function tryEdit(url, threadId, turn, original) {
  const page = new Page(url);
  const copy = await page.client.threads.copy(threadId);
  await page.open(copy.thread_id);
  const words = `Message ${turn}, edited`;
  await page.edit(page.humans()[turn - 1], words);
  const after = page.view();
  const expected = [...original.slice(0, 2 * (turn - 1)), words];
  const forkedCorrectly =
    JSON.stringify(after.slice(0, 2 * turn - 1).map((m) => m.text)) === JSON.stringify(expected) &&
    after.length === 2 * turn;
  const editedMessage = page.humans().find((m) => text(m) === words);
  const switcher = after.find((m) => m.id === editedMessage?.id)?.switcher ?? null;
  let switchedBack = false;
  if (editedMessage && page.switchAway(editedMessage)) {
    switchedBack =
      JSON.stringify(page.view().map((m) => m.text)) === JSON.stringify(original);
  }
  return {
    turn,
    forkedCorrectly,
    switcher,
    switchedBack,
    messages: after.length,
    editedAt: after.findIndex((m) => m.text === words),
    previous: after[after.findIndex((m) => m.text === words) - 1]?.text ?? null,
    originalKept: after.some((m) => m.text === original[2 * (turn - 1)]),
  };
}

async function long(url, turns = 45, editTurn = 30) {
  const page = new Page(url);
  for (let turn = 1; turn <= turns; turn += 1) {
    await page.send(`Message ${turn}`);
  }
  const original = page.view().map((m) => m.text);
  const stateIds = page.history.map((state) => state.checkpoint.checkpoint_id);
  // How far back the page's 10 states reach: edit each of the last turns on a copy.
  const window = [];
  for (let turn = turns; turn >= 1; turn -= 1) {
    const tried = await tryEdit(url, page.threadId, turn, original);
    window.push(tried);
    if (!tried.forkedCorrectly && window.filter((t) => !t.forkedCorrectly).length >= 2) break;
  }
  let editable = 0;
  for (const tried of window) {
    if (!(tried.forkedCorrectly && tried.switcher && tried.switchedBack)) break;
    editable += 1;
  }
  const editedTurn = await tryEdit(url, page.threadId, editTurn, original);
  return {
    threadId: page.threadId,
    turns,
    messages: original.length,
    transcriptMatches:
      JSON.stringify(original) === JSON.stringify(await transcript(page.client, page.threadId)),
    historyStates: stateIds.length,
    window,
    editableTurns: editable,
    editedTurn,
  };
}

const [url, scenario] = process.argv.slice(2);
const scenarios = { three, long, cancel };
if (!url || !(scenario in scenarios)) {
  console.error("usage: node agent_chat_ui_branches.mjs <server-url> three|long|cancel");
  process.exit(2);
}
const result = await scenarios[scenario](url);
process.stdout.write(`${JSON.stringify(result)}\n`);
