// The chat page's conversation.js against tests/fixtures/conversation_cases.json, the cases
// agent/client/conversations.py passes too (tests/unit_tests/test_conversation_cases.py
// runs this with `node --test`). Node's own test runner and assert: nothing to install.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as conversation from "../../src/agent/server/web/static/conversation.js";

const cases = JSON.parse(readFileSync(new URL("../fixtures/conversation_cases.json", import.meta.url), "utf8"));

test("textOf", () => {
  for (const c of cases.text_of) assert.equal(conversation.textOf(c.content), c.text, c.why);
});

test("titleOf", () => {
  for (const c of cases.title_of) assert.equal(conversation.titleOf(c.thread), c.title, c.why);
});

test("firstWords", () => {
  for (const c of cases.first_words) {
    const words = c.limit === undefined ? conversation.firstWords(c.thread) : conversation.firstWords(c.thread, c.limit);
    assert.equal(words, c.words, c.why);
  }
});

test("forkPoint", () => {
  const { history } = cases.fork_point;
  for (const c of cases.fork_point.cases) {
    assert.deepEqual(conversation.forkPoint(history.slice(0, c.newest), c.message_id), c.checkpoint, c.why);
  }
  for (const c of cases.fork_point.odd_histories) {
    assert.deepEqual(conversation.forkPoint(c.history, c.message_id), c.checkpoint, c.why);
  }
});

test("matches", () => {
  for (const c of cases.matches.cases) assert.equal(conversation.matches(cases.matches.thread, c.words), c.matches, c.why);
  for (const c of cases.matches.untitled) assert.equal(conversation.matches(c.thread, c.words), c.matches, c.why);
});

test("exportedMessages", () => {
  for (const c of cases.exported_messages) assert.deepEqual(conversation.exportedMessages(c.messages), c.exported, c.why);
});

test("exportJson and exportMarkdown", () => {
  for (const c of cases.export) {
    const text = conversation.exportJson(c.thread, c.values, new Date(c.exported_at));
    // Byte for byte what Python's json.dumps(indent=2, ensure_ascii=False) writes.
    assert.equal(text, `${JSON.stringify(c.json, null, 2)}\n`, c.why);
    assert.equal(conversation.exportMarkdown(c.thread, c.values), c.markdown, c.why);
  }
});

test("readExport", () => {
  const { not_json: notJson, not_an_export: notAnExport, bad_message: badMessage } = cases.read_export;
  for (const c of cases.read_export.cases) {
    if (c.read) {
      assert.deepEqual(conversation.readExport(c.text), c.read, c.why);
      continue;
    }
    let thrown = null;
    try {
      conversation.readExport(c.text);
    } catch (error) {
      thrown = error;
    }
    assert.ok(thrown instanceof conversation.BadExport, `${c.why}: BadExport expected, got ${thrown}`);
    if (c.error === "not_json") assert.ok(thrown.message.startsWith(notJson), `${c.why}: ${thrown.message}`);
    else if (c.error === "not_an_export") assert.equal(thrown.message, notAnExport, c.why);
    else assert.equal(thrown.message, badMessage.replace("{number}", String(c.number)), c.why);
  }
});

test("finalNode", () => {
  for (const c of cases.final_node) {
    if (c.error) assert.throws(() => conversation.finalNode(c.graph), { message: c.error }, c.why);
    else assert.equal(conversation.finalNode(c.graph), c.node, c.why);
  }
});

test("importRequest", () => {
  for (const c of cases.import_request) {
    const request = conversation.importRequest(c.title, c.language, c.messages, c.graph_id, c.as_node);
    assert.deepEqual(request, c.request, c.why);
  }
});

test("versions and branchWith (page only)", () => {
  const { history } = cases.fork_point;
  const shown = history[0].values.messages;
  for (const c of cases.page_only.versions) {
    assert.deepEqual(conversation.versions(history, shown, c.place), c.ids, c.why);
  }
  for (const c of cases.page_only.branch_with) {
    const state = conversation.branchWith(history, shown, c.place, c.message_id);
    assert.equal(state ? state.checkpoint.checkpoint_id : null, c.checkpoint_id, c.why);
  }
});
