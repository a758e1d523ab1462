"""PostgreSQL integration tests: every test gets a fresh database on a real server (the one
named by AIRGAP_TEST_DATABASE_URL, or an embedded one); nothing is skipped."""

from support.databases import (  # noqa: F401 - fixtures, registered by being imported
    empty_database_url,
    pg_request_store,
    pg_response_store,
    request_database_url,
    response_database_url,
)
