"""Queues: how a job id gets from the process that accepted it to a worker that runs it."""
