"""Persistence: typed tables (models), engine and schema migrations (db), and typed queries."""
