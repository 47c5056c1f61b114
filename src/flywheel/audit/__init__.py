"""The audit trail: one event for every change a user would ask "who did that?" about."""
