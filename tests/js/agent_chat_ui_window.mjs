// How many turns agent-chat-ui can edit, for a server that writes N states a turn.
//
//   node agent_chat_ui_window.mjs    # prints {"3": [...], "2": [...], "1": [...]}
//
// No server: a 45-turn thread is built in memory for each shape, the page takes its 10
// newest states (what POST /threads/{id}/history {"limit": 10} returns: newest first,
// across branches), edits the k-th newest turn from the parent_checkpoint of the oldest
// of them that holds the message, the "server" writes the edit run's states (as many as
// a turn) under that checkpoint, and the page takes the 10 newest again. Branch views
// and firstSeenState are the SDK's own getBranchContext and getMessagesMetadataMap
// (@langchain/langgraph-sdk 1.8.10, dist/ui/branching.js), as in agent_chat_ui_branches.mjs.
//
// Shapes: 3 = this graph (input without the message, the message, the reply); 2 = a run
// whose first state already holds the message, then the reply; 1 = the reply only
// (durability "exit"). Each result, newest turn first: "switch" (forks before the
// message, switcher shown, switching back shows the original), "forks" (right place, no
// switcher) or "wrong" (forks elsewhere).
import { getBranchContext, getMessagesMetadataMap } from "@langchain/langgraph-sdk/ui";

const HISTORY_LIMIT = 10;
const TURNS = 45;
const TRIED = 10;

function thread() {
  let next = 0;
  const states = [];
  const add = (parent, messages) => {
    next += 1;
    const state = {
      checkpoint: { checkpoint_id: String(next).padStart(8, "0") },
      parent_checkpoint: parent ? { checkpoint_id: parent.checkpoint.checkpoint_id } : null,
      values: { messages },
    };
    states.push(state);
    return state;
  };
  /** One run from `parent` with a user message: the states a turn of `shape` writes. */
  const turn = (parent, shape, human, reply) => {
    const before = parent?.values.messages ?? [];
    let head = parent;
    if (shape === 3) head = add(head, before);
    if (shape >= 2) head = add(head, [...before, human]);
    return add(head, [...before, human, reply]);
  };
  return { states, turn };
}

const newest = (states) =>
  [...states]
    .sort((a, b) => b.checkpoint.checkpoint_id.localeCompare(a.checkpoint.checkpoint_id))
    .slice(0, HISTORY_LIMIT);

function shown(history, branch) {
  const branchContext = getBranchContext(branch, history);
  const messages = branchContext.threadHead?.values?.messages ?? [];
  const metadata = getMessagesMetadataMap({
    initialValues: {},
    history,
    getMessages: (values) => values.messages ?? [],
    branchContext,
  });
  return { messages, metadata };
}

const texts = (messages) => JSON.stringify(messages.map((m) => m.content));

function editTurn(shape, fromEnd) {
  const { states, turn } = thread();
  let head = null;
  for (let n = 1; n <= TURNS; n += 1) {
    head = turn(head, shape, { id: `h${n}`, content: `Message ${n}` }, { id: `r${n}`, content: `Reply ${n}` });
  }
  const original = head.values.messages;
  const edited = TURNS - fromEnd;
  const before = shown(newest(states), "");
  const firstSeen = before.metadata.find((m) => m.messageId === `h${edited}`)?.firstSeenState;
  const from = states.find((s) => s.checkpoint.checkpoint_id === firstSeen?.parent_checkpoint?.checkpoint_id);
  turn(from, shape, { id: "edit", content: "Edited" }, { id: "edit-reply", content: "Reply to the edit" });
  const after = shown(newest(states), "");
  const expected = [...original.slice(0, 2 * (edited - 1)), { content: "Edited" }, { content: "Reply to the edit" }];
  if (texts(after.messages) !== texts(expected)) return "wrong";
  const meta = after.metadata.find((m) => m.messageId === "edit");
  const other = meta?.branch && meta.branchOptions?.find((option) => option !== meta.branch);
  if (other && texts(shown(newest(states), other).messages) === texts(original)) return "switch";
  return "forks";
}

const result = {};
for (const shape of [3, 2, 1]) {
  result[shape] = Array.from({ length: TRIED }, (_, fromEnd) => editTurn(shape, fromEnd));
}
process.stdout.write(`${JSON.stringify(result)}\n`);
