// Words for a job: what it is, its status, its flags as Midjourney spells them, a link to it.

export function statusLine(job) {
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

export function describe(job) {
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
export function flagText(flags) {
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

export function jobLink(jobId, text) {
  const link = document.createElement("a");
  link.href = `#job=${jobId}`;
  link.textContent = text;
  return link;
}
