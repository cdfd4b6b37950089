"""Durable jobs: a table, `enqueue(db, ...)` in the caller's transaction, and a worker."""
