"""Alembic environment: runs migrations on the engine handed in by tracker.storage.db (no alembic.ini)."""

from alembic import context

from tracker.storage.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode copies a table and drops the original; with foreign keys on, dropping a parent table
        # (massage_session) would cascade-delete its children (captures). The pragma only takes effect
        # outside a transaction, so it is set before the migration's transaction begins.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        with connection.begin():
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=sqlite,  # SQLite ALTER TABLE needs batch mode
            )
            context.run_migrations()
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
