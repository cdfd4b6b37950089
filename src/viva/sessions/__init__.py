"""Sessions: scheduling, lifecycle, invites, transcript (the API's "sessions")."""
