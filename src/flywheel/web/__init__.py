"""The web layer: app plumbing (sessions, errors, request ids, logs, health) and the `serve` command."""
