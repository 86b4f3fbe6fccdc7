"""The job feed: "this job changed" signals from whoever changed it to whoever waits on it.

The job row stays the truth: a signal carries no state, it only says "read the row again". So
a lost or duplicated signal costs a late or an extra read, never a wrong answer, and a waiter
always has a deadline. In one process (the embedded defaults) ``LocalFeed`` passes signals in
memory; across processes a broker (Redis pub/sub, PostgreSQL NOTIFY) can carry them.
"""
