"""Workspaces, users and their memberships."""
