"""Massage tracker core: domain types, configuration, storage, services, analysis and jobs.

Nothing here imports Flask, bleak, bumble or APScheduler except `tracker.cli`, the composition root.
"""

__version__ = "0.1.0"
