// The gallery: the key's jobs, newest first, a page at a time, each with its facts and links to
// the job it came from and to the jobs made from it.

import { api } from "./api.js";
import { describe, flagText, jobLink } from "./jobs.js";

const PAGE = 12;

export class Gallery {
  // `elements`: the list, the "Load more" button and the "no jobs" note; `attempt` runs an API
  // call and shows its refusal.
  constructor({ list, more, empty }, attempt) {
    Object.assign(this, { list, more, empty, attempt });
    this.jobs = [];
    this.cursor = null;
    this.loads = 0;
  }

  // The first page again (`reset`), or the next one.
  async load(reset) {
    const load = ++this.loads; // a later load (a refresh) makes this one moot
    if (reset) {
      this.jobs = [];
      this.cursor = null;
      this.list.replaceChildren();
    }
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (this.cursor) query.set("cursor", this.cursor);
    const page = await this.attempt(() => api(`/v2/jobs?${query}`));
    if (!page || load !== this.loads) return;
    this.jobs.push(...page.jobs);
    this.cursor = page.nextCursor;
    this.more.hidden = !page.hasMore;
    this.empty.hidden = this.jobs.length > 0;
    this.render();
  }

  render() {
    const children = new Map();
    for (const job of this.jobs) {
      const parent = job.selfjourney.parentJobId;
      if (parent) children.set(parent, [...(children.get(parent) || []), job]);
    }
    this.list.replaceChildren(...this.jobs.map((job) => item(job, children.get(job.id) || [])));
  }
}

function item(job, children) {
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
