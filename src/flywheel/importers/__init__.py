"""Importers: CSV/XLSX in, with header mapping, validation, idempotent upsert and rejects."""
