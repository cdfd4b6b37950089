"""Interview recordings: the audio of voice interviews, stored in a blob store (docs/recordings.md)."""
