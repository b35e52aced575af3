// "What I remember about you": the user's long-term memory, read and edited through the
// server's /store routes (namespace [user id, "memories"]), beside the chat page's own script.
"use strict";

(() => {
  const TOKEN_KEY = "chatbot.token"; // where the page keeps the bearer token (app.js)
  const API = new URL("..", document.baseURI).href.replace(/\/$/, "");
  const KIND_ORDER = ["name", "location", "job", "likes", "dislikes", "plans"];
  const SENTENCES = {
    name: (v) => `Your name is ${v}.`,
    location: (v) => `You live in ${v}.`,
    job: (v) => `Your job: ${v}.`,
    likes: (v) => `You like ${v}.`,
    dislikes: (v) => `You dislike ${v}.`,
    plans: (v) => `Your plans: ${v}.`,
  };
  const REFRESH_AFTER_MS = 1500; // after the conversation changes, once the reply is saved

  const panel = document.getElementById("memory-panel");
  if (!panel) return;

  // The server knows a caller by the token's subject; with auth off, everyone is "local".
  function currentUser() {
    const token = localStorage.getItem(TOKEN_KEY);
    if (!token) return "local";
    try {
      const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const claims = JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, "=")));
      return String(claims.sub || "local");
    } catch {
      return "local";
    }
  }

  async function call(method, path, body) {
    const headers = { "Content-Type": "application/json" };
    const token = localStorage.getItem(TOKEN_KEY);
    if (token) headers["Authorization"] = `Bearer ${token}`;
    const response = await fetch(API + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      let detail = "";
      try {
        detail = (await response.json()).detail || "";
      } catch {}
      const error = new Error(
        response.status === 401 ? "Sign in to see what I remember about you." : `The server answered ${response.status}. ${detail}`,
      );
      error.status = response.status;
      throw error;
    }
    return response.status === 204 ? null : response.json();
  }

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

  function render() {
    els.facts.replaceChildren(
      ...facts.map((item) => {
        const li = document.createElement("li");
        li.className = "memory-fact";
        li.dataset.key = item.key;
        const text = document.createElement("span");
        const sentence = SENTENCES[item.key];
        text.textContent = sentence ? sentence(item.value.text) : `${item.key}: ${item.value.text}`;
        const forget = document.createElement("button");
        forget.type = "button";
        forget.className = "plain memory-forget";
        forget.textContent = "Forget";
        forget.setAttribute("aria-label", `Forget ${item.key}`);
        forget.addEventListener("click", () => forgetFacts([item.key]));
        li.append(text, forget);
        return li;
      }),
    );
    els.empty.hidden = facts.length > 0;
    els.forgetAll.hidden = facts.length === 0;
  }

  async function load() {
    try {
      const user = currentUser();
      const found = await call("POST", "/store/items/search", {
        namespace_prefix: [user, "memories"],
        limit: 100,
      });
      facts = found.items
        .filter((item) => item.namespace.length === 2 && item.namespace[1] === "memories")
        .filter((item) => item.value && typeof item.value.text === "string")
        .sort((a, b) => KIND_ORDER.indexOf(a.key) - KIND_ORDER.indexOf(b.key));
      showError("");
    } catch (error) {
      facts = [];
      showError(error.message);
    }
    render();
  }

  async function forgetFacts(keys) {
    const user = currentUser();
    try {
      for (const key of keys) {
        await call("DELETE", "/store/items", { namespace: [user, "memories"], key });
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
})();
