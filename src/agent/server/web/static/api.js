// The server's API as the page reaches it: one base address, one bearer token (asked for
// when the server answers 401 or 403, kept in localStorage), one error type.

export const TOKEN_KEY = "chatbot.token";
export const API = new URL("..", document.baseURI).href.replace(/\/$/, "");

/** A failure the user can act on; its message says what went wrong. */
export class ApiError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.status = status; // the HTTP status, 0 when the server was not reached
  }
}

export const threadPath = (threadId) => `/threads/${encodeURIComponent(threadId)}`;

let asking = null; // one sign-in dialog at a time, however many requests were refused

function askToken() {
  if (asking) return asking;
  const dialog = document.getElementById("token-dialog");
  const input = document.getElementById("token-input");
  asking = new Promise((resolve) => {
    input.value = localStorage.getItem(TOKEN_KEY) || "";
    dialog.addEventListener(
      "close",
      () => {
        const token = input.value.trim();
        const given = dialog.returnValue === "ok" && Boolean(token);
        if (given) localStorage.setItem(TOKEN_KEY, token);
        asking = null;
        resolve(given);
      },
      { once: true },
    );
    dialog.showModal();
  });
  return asking;
}

/**
 * fetch against the API, JSON in, the Response out; throws ApiError unless it is ok.
 * `askForToken: false` leaves a 401 or 403 to the caller instead of opening the dialog.
 */
export async function request(path, { method = "GET", body, headers = {}, askForToken = true } = {}) {
  for (;;) {
    const sent = { ...headers };
    if (body !== undefined) sent["Content-Type"] = "application/json";
    const token = localStorage.getItem(TOKEN_KEY);
    if (token) sent["Authorization"] = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(API + path, {
        method,
        headers: sent,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(`Cannot reach the chatbot server (${err.message}). Is it running?`);
    }
    if (askForToken && (response.status === 401 || response.status === 403)) {
      if (await askToken()) continue;
      throw new ApiError("The server needs a valid access token.", response.status);
    }
    if (!response.ok) {
      let detail = "";
      try {
        detail = await response.text();
        const parsed = JSON.parse(detail);
        detail = parsed.detail || parsed.message || detail;
      } catch {
        /* keep the raw text */
      }
      throw new ApiError(`The server answered ${response.status}${detail ? `: ${detail}` : ""}`, response.status);
    }
    return response;
  }
}

/** request, then the answer's JSON (null for 204 No Content). */
export async function json(path, options) {
  const response = await request(path, options);
  return response.status === 204 ? null : response.json();
}

let known = null; // the server's /chatbot/me answer, and the token it was asked with

/**
 * The graph this page talks to and the user the server knows it as, from the server
 * (`agent.GRAPH_ID`; the token's user as the auth handler reads it, else the local user):
 * both are named once, in Python. Asked again when the token changes.
 */
export function whoami({ askForToken = true } = {}) {
  const token = localStorage.getItem(TOKEN_KEY) || "";
  if (!known || known.token !== token) {
    const answer = json("/chatbot/me", { askForToken });
    known = { token, answer, askForToken };
    answer.catch(() => {
      if (known && known.answer === answer) known = null; // ask again next time
    });
  }
  if (askForToken && !known.askForToken) {
    // Shared with a caller that would not open the sign-in dialog (the memory panel):
    // refused for want of a token, this caller asks again, and may open it.
    return known.answer.catch((error) => {
      if (error.status === 401 || error.status === 403) return whoami({ askForToken });
      throw error;
    });
  }
  return known.answer;
}
