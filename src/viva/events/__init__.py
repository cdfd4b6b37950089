"""The append-only event log. Emitting writes a row in the caller's transaction."""
