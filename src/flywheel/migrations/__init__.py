"""Alembic migrations, shipped inside the package so ``flywheel init`` works from any install."""
