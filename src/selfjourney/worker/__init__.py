"""The worker side: claim a job, render it (engines, references, watermarks), store its images,
finish it, and send its webhooks. It needs no FastAPI app and knows no dialect."""
