"""Who is acting: actors, roles and (later) sign-in and scoping."""
