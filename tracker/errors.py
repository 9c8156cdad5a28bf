"""Errors the services raise for a user's mistake; the CLI, web and API turn them into messages and 4xx."""


class UserError(ValueError):
    """Bad input from a person (not a bug): the message says what to fix."""


class NotFound(UserError):
    """The named thing does not exist (or belongs to another account)."""


class Conflict(UserError):
    """The request clashes with stored data (a duplicate name, an overlapping session)."""
