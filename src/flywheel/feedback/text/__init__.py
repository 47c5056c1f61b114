"""Offline zh/en text analytics of feedback: sentiment, topics and urgency (no database here)."""
