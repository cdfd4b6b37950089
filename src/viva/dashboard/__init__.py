"""The no-code dashboard at /dashboard: server-rendered pages calling the same services as the API."""
