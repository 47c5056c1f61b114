"""Feedback: surveys, campaigns, the public survey page, metrics, text analytics and the closed loop."""
