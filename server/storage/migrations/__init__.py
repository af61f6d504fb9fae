"""Alembic migrations: ``versions/`` holds one file per schema change, applied at start-up."""
