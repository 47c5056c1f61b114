"""Users: the people who own accounts and act in Flywheel."""
