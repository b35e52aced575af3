// The reply language: the selector, and the line saying which language the thread replies in.
import { els, state } from "./page.js";

const AUTO_LANGUAGE = "auto"; // like "", a `language` that lets the bot reply in the user's language

/** The language a thread set, or "" when it replies in the language its user writes. */
function chosenLanguage(language) {
  const value = typeof language === "string" ? language.trim() : "";
  return value.toLowerCase() === AUTO_LANGUAGE ? "" : value;
}

/** Show `language` in the selector (adding it when it is not one of the listed ones). */
export function setLanguage(language) {
  const value = chosenLanguage(language);
  if (![...els.language.options].some((o) => o.value === value)) {
    els.language.add(new Option(value, value));
  }
  els.language.value = value;
  state.languageChanged = false;
}

/**
 * Which language the thread replies in: the one set, else the one detected in its user's
 * newest message; a choice in the selector applies from the next message.
 */
export function showReplyLanguage() {
  const chosen = els.language.value;
  let text;
  if (state.languageChanged && chosen !== state.storedLanguage) {
    text = chosen ? `Will reply in ${chosen} (set)` : "Will reply in the language you write";
  } else if (state.storedLanguage) {
    text = `Replying in ${state.storedLanguage} (set)`;
  } else if (state.replyLanguage) {
    text = `Replying in ${state.replyLanguage} (detected)`;
  } else {
    text = "Replies in the language you write";
  }
  els.replyLanguage.textContent = text;
}

/** Keep what the thread's values say of its language, and show it. */
export function rememberLanguage(values) {
  state.storedLanguage = chosenLanguage(values.language);
  state.replyLanguage = chosenLanguage(values.reply_language);
  showReplyLanguage();
}
