// The selfjourney playground: the Apiframe v2 API from a browser, plus two Apiframe v1 routes
// for the buttons v2 does not have (Reroll, Upscale 2x/4x, Vary subtle/strong).
//
// The key lives in localStorage and is sent in headers only (X-API-Key for v2, Authorization
// for v1), never in a URL. Live progress comes from GET /v2/jobs/{id}/events read with fetch():
// EventSource cannot send headers, and a key in the query string would end up in logs and
// browser history. Every refusal is shown as the API's own message.

const KEY_STORAGE = "selfjourney.apiKey";
const GALLERY_PAGE = 12;
const $ = (id) => document.getElementById(id);

const state = {
  key: "",
  job: null, // the job on screen, as GET /v2/jobs/{id} renders it
  shown: "", // what the picture shows now, so progress events do not redraw it
  stream: null, // AbortController of the job's event stream
  gallery: [],
  cursor: null,
  galleryLoads: 0,
  region: null, // the vary-region mask being drawn
};

// -- the API ---------------------------------------------------------------------------

class ApiError extends Error {}

async function api(path, { method = "GET", body, dialect = "v2" } = {}) {
  const headers = dialect === "v2" ? { "X-API-Key": state.key } : { Authorization: state.key };
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

async function readJson(response) {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return { text };
  }
}

// The API's own words: v2 {error, details, creditsRequired...}, v1 {message, errors}.
function errorMessage(response, data) {
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

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

// Run an action of the page; any refusal goes to the alert box.
async function attempt(work) {
  clearError();
  try {
    return await work();
  } catch (error) {
    showError(error instanceof ApiError ? error.message : `Unexpected error: ${error.message}`);
    return undefined;
  }
}

// -- the key and the credits ------------------------------------------------------------

function setKey(value) {
  state.key = value.trim();
  if (state.key) localStorage.setItem(KEY_STORAGE, state.key);
  else localStorage.removeItem(KEY_STORAGE);
  $("key-hint").hidden = Boolean(state.key);
}

async function refreshCredits() {
  if (!state.key) {
    $("credits").textContent = "Credits: –";
    return;
  }
  const me = await attempt(() => api("/v2/me"));
  $("credits").textContent = me ? `Credits: ${me.team.credits}` : "Credits: –";
}

// -- views: #, #job=<id>, #gallery -----------------------------------------------------------

function route() {
  const hash = location.hash.slice(1);
  const gallery = hash === "gallery";
  $("create-view").hidden = gallery;
  $("gallery-view").hidden = !gallery;
  $(gallery ? "nav-gallery" : "nav-create").setAttribute("aria-current", "page");
  $(gallery ? "nav-create" : "nav-gallery").removeAttribute("aria-current");
  if (gallery) loadGallery(true);
  else if (hash.startsWith("job=")) openJob(decodeURIComponent(hash.slice(4)));
}

function show(jobId) {
  const hash = `#job=${jobId}`;
  if (location.hash === hash) openJob(jobId);
  else location.hash = hash; // route() opens it
}

// -- a job -------------------------------------------------------------------------------

async function openJob(jobId) {
  stopFollowing();
  endRegion();
  if (!state.key) {
    showError("Enter an API key first.");
    return;
  }
  const job = await attempt(() => api(`/v2/jobs/${encodeURIComponent(jobId)}`));
  if (!job) return;
  state.shown = "";
  render(job);
  if (!isFinal(job)) follow(job.id);
}

function isFinal(job) {
  return ["COMPLETED", "FAILED", "CANCELLED"].includes(job.status);
}

function stopFollowing() {
  if (state.stream) state.stream.abort();
  state.stream = null;
}

// The job's event stream: read until its final event; opened again if it breaks before.
async function follow(jobId) {
  const controller = new AbortController();
  state.stream = controller;
  let delay = 500;
  while (!controller.signal.aborted) {
    try {
      const response = await fetch(`/v2/jobs/${encodeURIComponent(jobId)}/events`, {
        headers: { "X-API-Key": state.key },
        signal: controller.signal,
      });
      if (!response.ok) {
        showError(errorMessage(response, await readJson(response)));
        return;
      }
      for await (const { event, data } of serverSentEvents(response.body)) {
        const job = JSON.parse(data);
        if (state.job && state.job.id === job.id) render(job);
        if (event === "completed" || event === "failed") {
          finished(job);
          return;
        }
        delay = 500;
      }
    } catch (error) {
      if (controller.signal.aborted) return;
    }
    $("job-status").textContent = "Connection lost; reconnecting…";
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 8000);
  }
}

// Server-Sent Events from a fetch() body: {event, data} per event, comments skipped.
async function* serverSentEvents(body) {
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

function finished(job) {
  refreshCredits(); // a failed job was refunded
  if (job.status === "FAILED") showError(job.error || "The job failed.");
}

const KINDS_WITH_A_GRID = ["imagine", "variation", "inpaint", "outpaint", "pan", "reroll"];

function render(job) {
  state.job = job;
  const details = job.selfjourney;
  $("job").hidden = false;
  $("job-title").textContent = `${describe(job)} · ${job.id.slice(0, 8)}`;
  $("job-status").textContent = statusLine(job);
  $("progress").value = job.progress ?? 0;
  $("progress-text").textContent = `${job.progress ?? 0}%`;
  renderFacts(job);
  renderPicture(job);
  const grid = KINDS_WITH_A_GRID.includes(details.kind);
  $("grid-actions").hidden = !grid;
  $("upsample-actions").hidden = details.kind !== "upsample";
  for (const button of document.querySelectorAll("#job .actions button")) {
    button.disabled = !details.actions.includes(button.dataset.action) || Boolean(state.region);
  }
}

function statusLine(job) {
  switch (job.status) {
    case "QUEUED":
      return "Queued: waiting for a worker";
    case "PROCESSING":
      return `Rendering: ${job.progress}%`;
    case "COMPLETED":
      return job.expired ? "Completed; its images have expired" : "Completed";
    case "FAILED":
      return `Failed: ${job.error}`;
    default:
      return job.status;
  }
}

function describe(job) {
  const { kind, args } = job.selfjourney;
  switch (kind) {
    case "imagine":
      return "Imagine";
    case "upsample":
      return `Upsample U${args.index}`;
    case "variation":
      return args.strength ? `Vary ${args.strength}` : `Variation V${args.index}`;
    case "inpaint":
      return "Vary region";
    case "outpaint":
      return `Zoom out ${args.zoom_ratio}x`;
    case "pan":
      return `Pan ${args.direction}`;
    case "reroll":
      return "Reroll";
    case "upscale":
      return `Upscale ${args.factor}x`;
    default:
      return kind;
  }
}

// Midjourney's spelling of the job's flags: --ar 16:9 --seed 7 ...
function flagText(flags) {
  const parts = [];
  const names = { aspect_ratio: "--ar", seed: "--seed", chaos: "--chaos", stylize: "--stylize" };
  Object.assign(names, { weird: "--weird", version: "--v" });
  for (const [name, flag] of Object.entries(names)) {
    if (flags[name] !== undefined && flags[name] !== null) parts.push(`${flag} ${flags[name]}`);
  }
  if (flags.negative && flags.negative.length) parts.push(`--no ${flags.negative.join(", ")}`);
  if (flags.tile) parts.push("--tile");
  if (flags.niji) parts.push("--niji");
  return parts.join(" ");
}

function renderFacts(job) {
  const details = job.selfjourney;
  const facts = [
    ["Prompt", details.prompt || "(none)"],
    ["Flags", flagText(details.flags) || "none"],
    ["Seed", String(details.seed)],
    ["Cost", `${job.creditCost ?? 0} credits`],
    ["Status", job.status],
  ];
  if (details.width) facts.push(["Size", `${details.width} × ${details.height}`]);
  const list = $("job-facts");
  list.replaceChildren();
  for (const [name, value] of facts) {
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = value;
    list.append(dt, dd);
  }
  if (details.parentJobId) {
    const dt = document.createElement("dt");
    dt.textContent = "From";
    const dd = document.createElement("dd");
    dd.append(jobLink(details.parentJobId, `job ${details.parentJobId.slice(0, 8)}`));
    list.append(dt, dd);
  }
}

function jobLink(jobId, text) {
  const link = document.createElement("a");
  link.href = `#job=${jobId}`;
  link.textContent = text;
  return link;
}

function renderPicture(job) {
  const images = job.result && !job.expired ? job.result.images : [];
  const shown = `${job.id}:${images.join(",")}`;
  if (shown === state.shown) return;
  state.shown = shown;
  const picture = $("picture");
  picture.replaceChildren();
  picture.className = "picture";
  if (!images.length) {
    const waiting = document.createElement("div");
    waiting.className = "placeholder";
    waiting.textContent = job.status === "FAILED" ? "No picture" : "The picture appears here";
    picture.append(waiting);
    return;
  }
  if (images.length > 1) picture.classList.add("grid");
  images.forEach((url, n) => {
    const img = document.createElement("img");
    img.src = url;
    img.alt = images.length > 1 ? `Image ${n + 1} of the grid` : describe(job);
    if (images.length === 1) {
      const frame = document.createElement("div");
      frame.className = "single";
      frame.append(img);
      picture.append(frame);
    } else {
      picture.append(img);
    }
  });
}

// -- the buttons -----------------------------------------------------------------------

async function press(button) {
  const job = state.job;
  if (!job) return;
  const { action, index, direction, zoom } = button.dataset;
  const details = job.selfjourney;
  if (action === "inpaint") {
    startRegion();
    return;
  }
  const submitted = await attempt(async () => {
    switch (action) {
      case "upsample":
      case "variation":
        return v2Action({ action, index: Number(index) });
      case "pan":
        return v2Action({ action, direction });
      case "outpaint":
        return v2Action({ action, zoomRatio: Number(zoom) });
      case "reroll": // not in Apiframe v2: its v1 route
        return v1Task("/reroll", { parent_task_id: job.id });
      case "upscale_2x":
      case "upscale_4x": // not in Apiframe v2: Apiframe v1's /upscale-highres
        return v1Task("/upscale-highres", { parent_task_id: job.id, type: action.slice(8) });
      case "vary_subtle":
      case "vary_strong": // Vary (Subtle/Strong): the Pro API's vary, on this image's grid
        return v1Task("/pro/midjourney/vary", {
          parent_task_id: details.parentJobId,
          index: String(details.args.index),
          type: action.slice(5),
        });
      default:
        throw new Error(`unknown action ${action}`);
    }
  });
  if (submitted) afterSubmit(submitted);
}

async function v2Action(body) {
  const accepted = await api("/v2/images/midjourney/action", {
    method: "POST",
    body: { parentJobId: state.job.id, ...body },
  });
  return accepted.jobId;
}

async function v1Task(path, body) {
  const accepted = await api(path, { method: "POST", body, dialect: "v1" });
  return accepted.task_id;
}

function afterSubmit(jobId) {
  refreshCredits();
  show(jobId);
}

async function imagine(event) {
  event.preventDefault();
  if (!state.key) {
    showError("Enter an API key first.");
    return;
  }
  const body = { model: "midjourney", prompt: $("prompt").value };
  const ratio = $("aspect-ratio").value;
  if (ratio) body.midjourneyParams = { aspect_ratio: ratio };
  const jobId = await attempt(async () => {
    const accepted = await api("/v2/images/generate", { method: "POST", body });
    return accepted.jobId;
  });
  if (jobId) afterSubmit(jobId);
}

// -- vary region: a mask painted on the upsample ------------------------------------------

function startRegion() {
  const job = state.job;
  const frame = document.querySelector("#picture .single");
  if (!job || !frame) return;
  endRegion();
  const canvas = document.createElement("canvas");
  canvas.width = job.selfjourney.width;
  canvas.height = job.selfjourney.height;
  canvas.setAttribute("aria-label", "Mask: paint the region to repaint");
  frame.append(canvas);
  const pen = canvas.getContext("2d");
  pen.strokeStyle = "#fff";
  pen.fillStyle = "#fff";
  pen.lineCap = "round";
  pen.lineJoin = "round";
  pen.lineWidth = Math.max(8, Math.round(canvas.width * 0.07));
  state.region = { canvas, pen, painting: false, painted: false };
  canvas.addEventListener("pointerdown", paintFrom);
  canvas.addEventListener("pointermove", paintTo);
  canvas.addEventListener("pointerup", stopPainting);
  canvas.addEventListener("pointercancel", stopPainting);
  $("region-form").hidden = false;
  $("region-submit").disabled = true;
  render(job); // buttons off while painting
  $("region-prompt").focus();
}

function pointOf(event) {
  const rect = state.region.canvas.getBoundingClientRect();
  const { width, height } = state.region.canvas;
  return [
    ((event.clientX - rect.left) * width) / rect.width,
    ((event.clientY - rect.top) * height) / rect.height,
  ];
}

function paintFrom(event) {
  const region = state.region;
  region.painting = true;
  region.canvas.setPointerCapture(event.pointerId);
  const [x, y] = pointOf(event);
  region.pen.beginPath();
  region.pen.arc(x, y, region.pen.lineWidth / 2, 0, Math.PI * 2);
  region.pen.fill();
  region.pen.beginPath();
  region.pen.moveTo(x, y);
  painted();
}

function paintTo(event) {
  const region = state.region;
  if (!region || !region.painting) return;
  const [x, y] = pointOf(event);
  region.pen.lineTo(x, y);
  region.pen.stroke();
  painted();
}

function stopPainting() {
  if (state.region) state.region.painting = false;
}

function painted() {
  state.region.painted = true;
  $("region-submit").disabled = false;
}

function clearRegion() {
  const region = state.region;
  if (!region) return;
  region.pen.clearRect(0, 0, region.canvas.width, region.canvas.height);
  region.painted = false;
  $("region-submit").disabled = true;
}

function endRegion() {
  if (state.region) state.region.canvas.remove();
  state.region = null;
  $("region-form").hidden = true;
  $("region-prompt").value = "";
  if (state.job) render(state.job);
}

// The mask the API reads: the picture's size, white where painted, black elsewhere (a PNG).
function maskDataUrl() {
  const { canvas } = state.region;
  const mask = document.createElement("canvas");
  mask.width = canvas.width;
  mask.height = canvas.height;
  const pen = mask.getContext("2d");
  pen.fillStyle = "#000";
  pen.fillRect(0, 0, mask.width, mask.height);
  pen.drawImage(canvas, 0, 0);
  return mask.toDataURL("image/png");
}

async function submitRegion(event) {
  event.preventDefault();
  if (!state.region || !state.region.painted) return;
  const body = { action: "inpaint", mask: maskDataUrl() };
  const prompt = $("region-prompt").value.trim();
  if (prompt) body.prompt = prompt;
  const jobId = await attempt(() => v2Action(body));
  if (jobId) {
    endRegion();
    afterSubmit(jobId);
  }
}

// -- the gallery -----------------------------------------------------------------------

async function loadGallery(reset) {
  const load = ++state.galleryLoads; // a later load (a refresh) makes this one moot
  if (reset) {
    state.gallery = [];
    state.cursor = null;
    $("gallery-list").replaceChildren();
  }
  if (!state.key) {
    showError("Enter an API key first.");
    return;
  }
  const query = new URLSearchParams({ limit: String(GALLERY_PAGE) });
  if (state.cursor) query.set("cursor", state.cursor);
  const page = await attempt(() => api(`/v2/jobs?${query}`));
  if (!page || load !== state.galleryLoads) return;
  state.gallery.push(...page.jobs);
  state.cursor = page.nextCursor;
  $("gallery-more").hidden = !page.hasMore;
  $("gallery-empty").hidden = state.gallery.length > 0;
  renderGallery();
}

function renderGallery() {
  const children = new Map();
  for (const job of state.gallery) {
    const parent = job.selfjourney.parentJobId;
    if (parent) children.set(parent, [...(children.get(parent) || []), job]);
  }
  $("gallery-list").replaceChildren(
    ...state.gallery.map((job) => galleryItem(job, children.get(job.id) || [])),
  );
}

function galleryItem(job, children) {
  const details = job.selfjourney;
  const item = document.createElement("li");
  const thumb = document.createElement("a");
  thumb.className = "thumb";
  thumb.href = `#job=${job.id}`;
  thumb.setAttribute("aria-hidden", "true");
  thumb.tabIndex = -1;
  const images = job.result && !job.expired ? job.result.images : [];
  if (images.length) {
    const img = document.createElement("img");
    img.src = images[0];
    img.alt = "";
    img.loading = "lazy";
    thumb.append(img);
  } else {
    const box = document.createElement("div");
    box.className = "placeholder";
    box.textContent = job.expired ? "expired" : job.status.toLowerCase();
    thumb.append(box);
  }
  const title = document.createElement("p");
  title.className = "title";
  title.append(jobLink(job.id, `${describe(job)} · ${job.id.slice(0, 8)}`));
  const prompt = document.createElement("p");
  prompt.textContent = details.prompt || "(no prompt)";
  const facts = document.createElement("p");
  facts.className = "muted";
  const flags = flagText(details.flags);
  facts.textContent = [
    job.status,
    flags || null,
    `seed ${details.seed}`,
    `${job.creditCost ?? 0} credits`,
    new Date(job.createdAt).toLocaleString(),
  ]
    .filter(Boolean)
    .join(" · ");
  item.append(thumb, title, prompt, facts);
  if (details.parentJobId) {
    const from = document.createElement("p");
    from.append("from ", jobLink(details.parentJobId, `job ${details.parentJobId.slice(0, 8)}`));
    item.append(from);
  }
  if (children.length) {
    const next = document.createElement("p");
    next.append("→ ");
    children.forEach((child, n) => {
      if (n) next.append(", ");
      next.append(jobLink(child.id, `${describe(child)} ${child.id.slice(0, 8)}`));
    });
    item.append(next);
  }
  return item;
}

// -- start -----------------------------------------------------------------------------

function start() {
  const keyInput = $("api-key");
  setKey(localStorage.getItem(KEY_STORAGE) || "");
  keyInput.value = state.key;
  let typing;
  keyInput.addEventListener("input", () => {
    setKey(keyInput.value);
    clearTimeout(typing);
    typing = setTimeout(() => {
      refreshCredits();
      if (!$("gallery-view").hidden) loadGallery(true);
    }, 300);
  });
  $("imagine-form").addEventListener("submit", imagine);
  document.querySelectorAll("#job .actions button").forEach((button) => {
    button.addEventListener("click", () => press(button));
  });
  $("region-form").addEventListener("submit", submitRegion);
  $("region-clear").addEventListener("click", clearRegion);
  $("region-cancel").addEventListener("click", endRegion);
  $("gallery-refresh").addEventListener("click", () => loadGallery(true));
  $("gallery-more").addEventListener("click", () => loadGallery(false));
  window.addEventListener("hashchange", route);
  refreshCredits();
  route();
}

start();
