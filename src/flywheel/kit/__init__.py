"""Plumbing with no business nouns: money, dates, payment terms, tabular files."""
