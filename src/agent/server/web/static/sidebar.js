// The sidebar: the newest conversations, search over them, rename and delete.
import { json, request, threadPath, whoami } from "./api.js";
import { firstWords, matches, titleOf } from "./conversation.js";
import { els, guard, showTitle, state } from "./page.js";

const THREADS_LISTED = 200; // the sidebar (and its search) covers the newest 200 conversations
const TRASH = "M4 7h16M10 11v6M14 11v6M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V4h6v3";
const PENCIL = "M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4";

let hooks = { open: async () => {}, deleted: () => {} };

/** What opening a conversation and deleting one do beyond the sidebar (the chat's part). */
export function sidebarHooks(given) {
  hooks = given;
}

/** The title a conversation is shown under: its own, else its first words. */
export function shownTitle(thread) {
  return titleOf(thread) || firstWords(thread) || "New conversation";
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
}

export function renderThreads() {
  const words = els.search.value;
  const shown = state.threads.filter((thread) => matches(thread, words));
  els.threads.replaceChildren(...shown.map(threadItem));
  els.threadsEmpty.textContent = words.trim() ? "No conversation matches." : "No conversations yet.";
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
  title.textContent = shownTitle(thread);
  const time = document.createElement("time");
  time.className = "thread-time";
  time.dateTime = thread.updated_at;
  time.textContent = when(thread.updated_at);
  open.append(title, time);
  open.addEventListener("click", () => guard(() => hooks.open(thread.thread_id)));

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
