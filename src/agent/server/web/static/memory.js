// "What I remember about you": the user's long-term memory, read and edited through the
// server's /store routes (namespace [user id, "memories"]). A module of its own, loaded
// beside app.js; it shares only api.js (address, token, errors) with the chat.
import { json, whoami } from "./api.js";

// Each item names its own topic (agent/memory/topics.py is the table): nothing to keep in step here.
// Items saved before topics existed name it "kind".
const topicOf = (item) => String(item.value.topic || item.value.kind || item.key);
const SEARCH_LIMIT = 1000; // as agent/memory/keeper.py RECALL_LIMIT
const REFRESH_AFTER_MS = 1500; // after the conversation changes, once the reply is saved

/** A 401 says to sign in rather than opening the chat's sign-in dialog. */
async function signedIn(action) {
  try {
    return await action();
  } catch (error) {
    if (error.status === 401) throw new Error("Sign in to see what I remember about you.");
    throw error;
  }
}

/** The store's answer. */
const call = (method, path, body) => signedIn(() => json(path, { method, body, askForToken: false }));

/** The namespace of the user's facts: [user id, "memories"], the user as the server knows it. */
async function memories() {
  const { user } = await signedIn(() => whoami({ askForToken: false }));
  return [user, "memories"];
}

const panel = document.getElementById("memory-panel");
if (panel) showPanel(panel);

function showPanel(panel) {
  panel.innerHTML = `
    <details id="memory-details">
      <summary><h2 id="memory-title">What I remember about you</h2></summary>
      <p id="memory-empty" class="muted small" hidden>Nothing yet. Tell me about yourself in any conversation.</p>
      <p id="memory-error" class="memory-error small" role="alert" hidden></p>
      <ul id="memory-facts" aria-labelledby="memory-title"></ul>
      <div class="memory-actions">
        <button type="button" id="memory-refresh" class="plain">Refresh</button>
        <button type="button" id="memory-forget-all" class="danger" hidden>Forget everything</button>
      </div>
    </details>`;
  const els = {
    details: panel.querySelector("#memory-details"),
    facts: panel.querySelector("#memory-facts"),
    empty: panel.querySelector("#memory-empty"),
    error: panel.querySelector("#memory-error"),
    refresh: panel.querySelector("#memory-refresh"),
    forgetAll: panel.querySelector("#memory-forget-all"),
  };
  let facts = [];

  function showError(message) {
    els.error.textContent = message || "";
    els.error.hidden = !message;
  }

  function factRow(item) {
    const li = document.createElement("li");
    li.className = "memory-fact";
    li.dataset.key = item.key;
    const topic = document.createElement("span");
    topic.className = "memory-topic";
    topic.textContent = topicOf(item);
    const text = document.createElement("span");
    text.className = "memory-text";
    text.textContent = item.value.text; // as the user wrote it, never parsed as HTML
    const label = `${topicOf(item)}: ${item.value.text}`;
    const edit = document.createElement("button");
    edit.type = "button";
    edit.className = "plain memory-edit";
    edit.textContent = "Edit";
    edit.setAttribute("aria-label", `Edit ${label}`);
    edit.addEventListener("click", () => li.replaceWith(editRow(item)));
    const forget = document.createElement("button");
    forget.type = "button";
    forget.className = "plain memory-forget";
    forget.textContent = "Forget";
    forget.setAttribute("aria-label", `Forget ${label}`);
    forget.addEventListener("click", () => forgetFacts([item.key]));
    li.append(topic, text, edit, forget);
    return li;
  }

  // Correct a fact in place: same key and topic, the new value as the user writes it.
  function editRow(item) {
    const form = document.createElement("form");
    form.className = "memory-fact memory-editing";
    const input = document.createElement("input");
    input.type = "text";
    input.value = item.value.text;
    input.setAttribute("aria-label", `New value of ${topicOf(item)}`);
    const save = document.createElement("button");
    save.type = "submit";
    save.className = "plain";
    save.textContent = "Save";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "plain";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", render);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (text) correctFact(item, text);
      else render();
    });
    form.append(input, save, cancel);
    queueMicrotask(() => input.focus());
    return form;
  }

  function render() {
    els.facts.replaceChildren(...facts.map(factRow));
    els.empty.hidden = facts.length > 0;
    els.forgetAll.hidden = facts.length === 0;
  }

  async function load() {
    try {
      const found = await call("POST", "/store/items/search", {
        namespace_prefix: await memories(),
        limit: SEARCH_LIMIT,
      });
      // Newest first: what was just learnt is what the user looks for.
      const learnt = (item) => String(item.value.updated_at || item.updated_at || "");
      facts = found.items
        .filter((item) => item.namespace.length === 2 && item.namespace[1] === "memories")
        .filter((item) => item.value && typeof item.value.text === "string")
        .sort((a, b) => learnt(b).localeCompare(learnt(a)));
      showError("");
    } catch (error) {
      facts = [];
      showError(error.message);
    }
    render();
  }

  // As agent/memory/facts.py `corrected`: the user's own word, no longer tied to a thread.
  async function correctFact(item, text) {
    const value = {
      topic: topicOf(item),
      text,
      said: text,
      thread_id: "",
      message_id: "",
      updated_at: new Date().toISOString().slice(0, 19) + "+00:00",
    };
    try {
      const namespace = await memories();
      await call("PUT", "/store/items", { namespace, key: item.key, value, index: false });
    } catch (error) {
      showError(error.message);
    }
    await load();
  }

  async function forgetFacts(keys) {
    try {
      const namespace = await memories();
      for (const key of keys) {
        await call("DELETE", "/store/items", { namespace, key });
      }
    } catch (error) {
      showError(error.message);
    }
    await load();
  }

  els.refresh.addEventListener("click", load);
  els.forgetAll.addEventListener("click", () => {
    if (window.confirm("Forget everything I remember about you? This cannot be undone.")) {
      forgetFacts(facts.map((item) => item.key));
    }
  });
  els.details.addEventListener("toggle", () => {
    if (els.details.open) load();
  });

  // A finished reply may have taught me something: look again once the conversation settles.
  let timer = null;
  const messages = document.getElementById("messages");
  if (messages) {
    new MutationObserver(() => {
      if (!els.details.open) return;
      clearTimeout(timer);
      timer = setTimeout(load, REFRESH_AFTER_MS);
    }).observe(messages, { childList: true, subtree: true, characterData: true });
  }
  window.addEventListener("focus", () => {
    if (els.details.open) load();
  });
}
