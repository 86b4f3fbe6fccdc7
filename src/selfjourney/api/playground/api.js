// The API as the page calls it: the key from the session, refusals in the API's own words,
// and the Server-Sent Events of a job read from a fetch() body (EventSource cannot send the key).

export const session = { key: "" };

export class ApiError extends Error {}

export async function api(path, { method = "GET", body, dialect = "v2" } = {}) {
  const headers = dialect === "v2" ? { "X-API-Key": session.key } : { Authorization: session.key };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(`Cannot reach the server: ${error.message}`);
  }
  const data = await readJson(response);
  if (!response.ok) throw new ApiError(errorMessage(response, data));
  return data;
}

export async function readJson(response) {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return { text };
  }
}

// The API's own words: v2 {error, details, creditsRequired...}, v1 {message, errors}.
export function errorMessage(response, data) {
  if (data && typeof data.error === "string") {
    if (data.details && typeof data.details === "object") {
      const parts = Object.entries(data.details).map(([field, messages]) =>
        [].concat(messages).map((m) => (m.startsWith(field) ? m : `${field}: ${m}`)).join("; "),
      );
      return `${data.error}: ${parts.join("; ")}`;
    }
    if ("creditsRequired" in data) {
      return `${data.error}: this costs ${data.creditsRequired}, ${data.creditsAvailable} left`;
    }
    return data.error;
  }
  if (data && typeof data.message === "string") return data.message;
  const text = data && data.text ? `: ${data.text.slice(0, 300)}` : "";
  return `HTTP ${response.status} ${response.statusText}${text}`;
}

// Server-Sent Events from a fetch() body: {event, data} per event, comments skipped.
export async function* serverSentEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer = (buffer + value).replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (!line || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = text;
        else if (field === "data") data.push(text);
      }
      if (data.length) yield { event, data: data.join("\n") };
    }
  }
}
