"""Alembic migrations of the journal schema, shipped inside the package."""
