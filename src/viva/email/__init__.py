"""Emails to candidates: rendered from templates, kept in the outbox table, sent by a job."""
