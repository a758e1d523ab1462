"""Completion notifications over HTTP webhooks."""
