// Server-sent events from a streaming run (POST /threads/{id}/runs/stream).

/** Yield {event, data} for each event in the response's body, as it arrives. */
export async function* serverSentEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) yield { event, data: data.join("\n") };
    }
  }
}

/** The words of an `error` event: its error and message, else the raw data. */
export function errorText(data) {
  try {
    const parsed = JSON.parse(data);
    return [parsed.error, parsed.message].filter(Boolean).join(": ") || data;
  } catch {
    return data;
  }
}
