"""Running untrusted code: bubblewrap sandboxes, per-language harnesses, limits. Imports no domain."""
