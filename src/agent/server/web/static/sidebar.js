// The sidebar: the newest conversations, search over all of them, rename and delete.
import { json, request, threadPath, whoami } from "./api.js";
import { firstWords, matches, titleOf } from "./conversation.js";
import { els, guard, showTitle, state } from "./page.js";

const THREADS_LISTED = 200; // the sidebar lists the newest 200 conversations
const SEARCH_HITS = 50; // messages a search asks the server for (GET /chatbot/search)
const SEARCH_PAUSE_MS = 200; // typing pauses this long before the server is asked
const TRASH = "M4 7h16M10 11v6M14 11v6M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V4h6v3";
const PENCIL = "M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4";

let hooks = { open: async () => {}, deleted: () => {} };

/** What opening a conversation and deleting one do beyond the sidebar (the chat's part). */
export function sidebarHooks(given) {
  hooks = given;
}

/** The title a conversation is shown under: its own, else its first words. */
export function shownTitle(thread) {
  return titleOf(thread) || firstWords(thread) || thread.foundTitle || "New conversation";
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

export async function loadThreads() {
  state.threads = await json("/threads/search", {
    method: "POST",
    body: { limit: THREADS_LISTED, sort_by: "updated_at", sort_order: "desc" },
  });
  renderThreads();
  const words = els.search.value.trim();
  if (words) await askServer(words); // a deleted or renamed conversation shows as it is now
}

let found = { words: "", hits: [], error: "" }; // the server's answer for the words searched last
let asked = 0; // the number of the newest search asked; older answers are dropped
let pause = null;

/** Search all of the user's conversations on the server once typing pauses. */
export function searchThreads() {
  clearTimeout(pause);
  const words = els.search.value.trim();
  if (!words) {
    found = { words: "", hits: [], error: "" };
    renderThreads();
    return;
  }
  pause = setTimeout(() => guard(() => askServer(words)), SEARCH_PAUSE_MS);
}

async function askServer(words) {
  const mine = ++asked;
  let answer = { words, hits: [], error: "" };
  try {
    const params = new URLSearchParams({ q: words, limit: String(SEARCH_HITS) });
    answer.hits = (await json(`/chatbot/search?${params}`)).hits;
  } catch (error) {
    if (error.status !== 422) throw error;
    answer.error = error.message.replace(/^The server answered 422: /, "");
  }
  if (mine !== asked || words !== els.search.value.trim()) return; // typed on since
  found = answer;
  renderThreads();
}

/**
 * The list: every listed conversation, or while searching, those whose title holds the
 * words (here) and those with a message that does (the server's answer, newest first),
 * each with the snippet of its newest matching message.
 */
export function renderThreads() {
  const words = els.search.value.trim();
  let shown = state.threads.map((thread) => ({ thread, hit: null }));
  if (words) {
    const hits = found.words === words ? found.hits : [];
    const firstHit = new Map();
    for (const hit of hits) if (!firstHit.has(hit.thread_id)) firstHit.set(hit.thread_id, hit);
    const listed = new Map(state.threads.map((thread) => [thread.thread_id, thread]));
    const titled = state.threads.filter((thread) => matches({ metadata: thread.metadata }, words));
    shown = [
      ...[...firstHit.values()].map((hit) => ({ thread: listed.get(hit.thread_id) || foundThread(hit), hit })),
      ...titled.filter((thread) => !firstHit.has(thread.thread_id)).map((thread) => ({ thread, hit: null })),
    ];
  }
  els.threads.replaceChildren(...shown.map(({ thread, hit }) => threadItem(thread, hit)));
  els.threads.dataset.searched = words && found.words === words ? words : "";
  const error = words && found.words === words ? found.error : "";
  els.threadsEmpty.textContent = error || (words ? "No conversation matches." : "No conversations yet.");
  els.threadsEmpty.hidden = shown.length > 0 && !error;
}

/** A conversation found by its content that the list does not hold (older than the newest listed). */
function foundThread(hit) {
  return { thread_id: hit.thread_id, metadata: {}, values: {}, updated_at: hit.at, foundTitle: hit.title };
}

function threadItem(thread, hit = null) {
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
  title.textContent = shownTitle(thread);
  const time = document.createElement("time");
  time.className = "thread-time";
  time.dateTime = hit ? hit.at : thread.updated_at;
  time.textContent = when(time.dateTime);
  open.append(title, time);
  if (hit) {
    const snippet = document.createElement("span");
    snippet.className = "thread-snippet";
    snippet.textContent = hit.snippet; // as text: a message's words, never HTML
    open.append(snippet);
  }
  open.addEventListener("click", () => guard(() => hooks.open(thread.thread_id, hit ? hit.message_id : null)));

  const label = title.textContent;
  const rename = iconButton(PENCIL, "thread-icon", "Rename conversation", label, () => startRename(item, thread));
  const remove = iconButton(TRASH, "thread-icon thread-delete", "Delete conversation", label, () =>
    guard(() => deleteThread(thread.thread_id, label)),
  );

  item.append(open, rename, remove);
  return item;
}

/** A button that shows only an icon; `action` and the thread's title name it for screen readers. */
function iconButton(path, className, action, threadTitle, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className;
  b.append(icon(path));
  b.setAttribute("aria-label", `${action}: ${threadTitle}`);
  b.title = action;
  b.addEventListener("click", onClick);
  return b;
}

function startRename(item, thread) {
  const field = document.createElement("input");
  field.className = "rename";
  field.value = shownTitle(thread);
  field.setAttribute("aria-label", "New title");
  let done = false;
  const finish = (save) => {
    if (done) return;
    done = true;
    const title = field.value.trim();
    if (save && title && title !== shownTitle(thread)) guard(() => renameThread(thread.thread_id, title));
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
    showTitle(title);
  }
  await loadThreads();
}

/** The facts memory learnt in a conversation, "topic value" each: what deleting it forgets. */
async function learntIn(threadId) {
  try {
    const { user } = await whoami({ askForToken: false });
    const found = await json("/store/items/search", {
      method: "POST",
      body: { namespace_prefix: [user, "memories"], filter: { thread_id: threadId }, limit: 1000 },
      askForToken: false,
    });
    return found.items
      .filter((item) => item.namespace.length === 2 && item.value.thread_id === threadId)
      .map((item) => `${item.value.topic || item.value.kind || item.key} ${item.value.text}`);
  } catch {
    return []; // the deletion still asks; it just cannot name what it forgets
  }
}

async function deleteThread(threadId, label) {
  const facts = await learntIn(threadId);
  const also = facts.length ? `\n\nIt also forgets what I learnt about you in it: ${facts.join(", ")}.` : "";
  if (!window.confirm(`Delete the conversation “${label}”? This cannot be undone.${also}`)) return;
  await request(threadPath(threadId), { method: "DELETE" });
  hooks.deleted(threadId);
  await loadThreads();
}

/** Mark the open conversation in the list. */
export function markActive() {
  for (const item of els.threads.children) {
    const active = item.dataset.threadId === state.threadId;
    item.classList.toggle("active", active);
    const open = item.querySelector(".thread-open");
    if (!open) continue;
    if (active) open.setAttribute("aria-current", "true");
    else open.removeAttribute("aria-current");
  }
}
