"""Scheduled jobs: module-level, idempotent functions taking ``now``, and the scheduler process."""
