// The selfjourney playground: the Apiframe v2 API from a browser, plus the Apiframe v1 routes for
// the buttons v2 does not have (Reroll, Upscale 2x/4x, Vary subtle/strong).
//
// The key lives in localStorage and is sent in headers only (X-API-Key for v2, Authorization
// for v1), never in a URL. Live progress comes from GET /v2/jobs/{id}/events read with fetch():
// EventSource cannot send headers, and a key in the query string would end up in logs and
// browser history. Every refusal is shown as the API's own message.
//
// Modules: api.js (calls, refusals, the event stream), jobs.js (words for a job), mask.js (the
// vary-region mask), gallery.js (the key's jobs); this one holds the page together.

import { ApiError, api, errorMessage, readJson, serverSentEvents, session } from "./api.js";
import { Gallery } from "./gallery.js";
import { describe, flagText, jobLink, statusLine } from "./jobs.js";
import { MaskPainter } from "./mask.js";

const KEY_STORAGE = "selfjourney.apiKey";
const $ = (id) => document.getElementById(id);

const state = {
  job: null, // the job on screen, as GET /v2/jobs/{id} renders it
  shown: "", // what the picture shows now, so progress events do not redraw it
  stream: null, // AbortController of the job's event stream
  painter: null, // the vary-region mask being painted
};

let gallery;

// -- refusals --------------------------------------------------------------------------

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
  session.key = value.trim();
  if (session.key) localStorage.setItem(KEY_STORAGE, session.key);
  else localStorage.removeItem(KEY_STORAGE);
  $("key-hint").hidden = Boolean(session.key);
}

function needKey() {
  if (!session.key) showError("Enter an API key first.");
  return !session.key;
}

async function refreshCredits() {
  if (!session.key) {
    $("credits").textContent = "Credits: –";
    return;
  }
  const me = await attempt(() => api("/v2/me"));
  $("credits").textContent = me ? `Credits: ${me.team.credits}` : "Credits: –";
}

// -- views: #, #job=<id>, #gallery -------------------------------------------------------

function route() {
  const hash = location.hash.slice(1);
  const showGallery = hash === "gallery";
  $("create-view").hidden = showGallery;
  $("gallery-view").hidden = !showGallery;
  $(showGallery ? "nav-gallery" : "nav-create").setAttribute("aria-current", "page");
  $(showGallery ? "nav-create" : "nav-gallery").removeAttribute("aria-current");
  if (showGallery) loadGallery();
  else if (hash.startsWith("job=")) openJob(decodeURIComponent(hash.slice(4)));
}

function loadGallery() {
  if (!needKey()) gallery.load(true);
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
  if (needKey()) return;
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
        headers: { "X-API-Key": session.key },
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
    button.disabled = !details.actions.includes(button.dataset.action) || Boolean(state.painter);
  }
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
  if (needKey()) return;
  const body = { model: "midjourney", prompt: $("prompt").value };
  const ratio = $("aspect-ratio").value;
  if (ratio) body.midjourneyParams = { aspect_ratio: ratio };
  const jobId = await attempt(async () => {
    const accepted = await api("/v2/images/generate", { method: "POST", body });
    return accepted.jobId;
  });
  if (jobId) afterSubmit(jobId);
}

// -- vary region ---------------------------------------------------------------------------

function startRegion() {
  const job = state.job;
  const frame = document.querySelector("#picture .single");
  if (!job || !frame) return;
  endRegion();
  const { width, height } = job.selfjourney;
  state.painter = new MaskPainter(frame, width, height, () => {
    $("region-submit").disabled = false;
  });
  $("region-form").hidden = false;
  $("region-submit").disabled = true;
  render(job); // the buttons are off while painting
  $("region-prompt").focus();
}

function clearRegion() {
  if (!state.painter) return;
  state.painter.clear();
  $("region-submit").disabled = true;
}

function endRegion() {
  if (state.painter) state.painter.remove();
  state.painter = null;
  $("region-form").hidden = true;
  $("region-prompt").value = "";
  if (state.job) render(state.job);
}

async function submitRegion(event) {
  event.preventDefault();
  if (!state.painter || !state.painter.painted) return;
  const body = { action: "inpaint", mask: state.painter.dataUrl() };
  const prompt = $("region-prompt").value.trim();
  if (prompt) body.prompt = prompt;
  const jobId = await attempt(() => v2Action(body));
  if (jobId) {
    endRegion();
    afterSubmit(jobId);
  }
}

// -- start -----------------------------------------------------------------------------

function start() {
  gallery = new Gallery(
    { list: $("gallery-list"), more: $("gallery-more"), empty: $("gallery-empty") },
    attempt,
  );
  const keyInput = $("api-key");
  setKey(localStorage.getItem(KEY_STORAGE) || "");
  keyInput.value = session.key;
  let typing;
  keyInput.addEventListener("input", () => {
    setKey(keyInput.value);
    clearTimeout(typing);
    typing = setTimeout(() => {
      refreshCredits();
      if (!$("gallery-view").hidden) loadGallery();
    }, 300);
  });
  $("imagine-form").addEventListener("submit", imagine);
  document.querySelectorAll("#job .actions button").forEach((button) => {
    button.addEventListener("click", () => press(button));
  });
  $("region-form").addEventListener("submit", submitRegion);
  $("region-clear").addEventListener("click", clearRegion);
  $("region-cancel").addEventListener("click", endRegion);
  $("gallery-refresh").addEventListener("click", loadGallery);
  $("gallery-more").addEventListener("click", () => gallery.load(false));
  window.addEventListener("hashchange", route);
  refreshCredits();
  route();
}

start();
