// Export Markdown / Export JSON of the conversation shown, and Import of a JSON export.
// The formats and checks are conversation.js's (the same as `chatbot export` / `import`).
import { ApiError, json, whoami } from "./api.js";
import { exportJson, exportMarkdown, exportTitle, finalNode, importRequest, readExport } from "./conversation.js";
import { openThread } from "./chat.js";
import { els, notify, state } from "./page.js";
import { loadThreads } from "./sidebar.js";

/** The conversation shown, as conversation.js's export functions take it. */
function shown() {
  const title = state.threadTitle || els.title.textContent;
  const thread = { thread_id: state.threadId, metadata: { title } };
  const values = { language: els.language.value || null, messages: state.messages };
  return [thread, values];
}

function download(text, extension, type) {
  const slug =
    exportTitle(...shown())
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "")
      .slice(0, 40) || "conversation";
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type }));
  link.download = `${slug}.${extension}`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

export function downloadMarkdown() {
  download(exportMarkdown(...shown()), "md", "text/markdown");
}

export function downloadJson() {
  download(exportJson(...shown()), "json", "application/json");
}

/** Open a JSON export as a new conversation: same messages, no model call. */
export async function importConversation(file) {
  let read, asNode;
  const { graph_id: graphId } = await whoami();
  try {
    read = readExport(await file.text());
    // One request creates the thread and writes its messages as the node that ends a turn
    // (from the graph's own drawing), so nothing is left to run and no model is called.
    asNode = finalNode(await json(`/assistants/${graphId}/graph`));
  } catch (err) {
    if (err instanceof ApiError) throw err; // the server's own words
    throw new ApiError(`Cannot import ${file.name}: ${err.message}`); // the file's or the graph's fault
  }
  const { title, language, messages } = read;
  const thread = await json("/threads", {
    method: "POST",
    body: importRequest(title, language, messages, graphId, asNode),
  });
  await loadThreads();
  await openThread(thread.thread_id);
  notify(`Imported ${messages.length} messages as a new conversation.`);
}
