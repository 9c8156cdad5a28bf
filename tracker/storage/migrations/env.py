"""Alembic environment: runs migrations on the engine handed in by tracker.storage.db (no alembic.ini)."""

from alembic import context

from tracker.storage.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTER TABLE needs batch mode
    )
    context.run_migrations()
