"""Dramatiq: the task-queue port on a configured broker."""
