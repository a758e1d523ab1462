"""PostgreSQL persistence for both networks: SQLAlchemy Core tables (one MetaData per
network), explicit translation between rows and domain objects, repositories and a unit of
work per network, read models for the admin lists, Alembic helpers and the embedded server.

Nothing here builds an engine or connects at import time; the composition root does that.
"""
