"""The MCP server at /api/mcp: tools as thin calls into the services (SPEC §8)."""
