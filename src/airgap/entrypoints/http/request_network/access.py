"""Who may call what: roles, and the API-key scope each group of routes needs.

| routes                                   | roles                    | API-key scope    |
|------------------------------------------|--------------------------|------------------|
| submit, cancel                           | user, admin, system      | requests:write   |
| own requests, answers                    | user, admin, system      | requests:read    |
| own account, API keys (read)             | everyone                 | account:read     |
| own account, password, API keys (change) | everyone                 | account:write    |
| admin reads, /health/detailed            | operator, admin, system  | admin:read       |
| admin changes                            | admin                    | admin:write      |

``operator`` is read-only monitoring: it may look at everything an administrator sees but
neither submits searches nor changes anything.
"""

from __future__ import annotations

from airgap.domain.model.users import Role
from airgap.entrypoints.http.common.auth import ALL_ROLES, requires
from airgap.entrypoints.http.request_network.schemas import ApiKeyScope

REQUESTERS = frozenset({Role.USER, Role.ADMIN, Role.SYSTEM})
MONITORS = frozenset({Role.OPERATOR, Role.ADMIN, Role.SYSTEM})
ADMINS = frozenset({Role.ADMIN})

may_submit = requires(REQUESTERS, ApiKeyScope.REQUESTS_WRITE)
may_read_requests = requires(REQUESTERS, ApiKeyScope.REQUESTS_READ)
may_read_account = requires(ALL_ROLES, ApiKeyScope.ACCOUNT_READ)
may_change_account = requires(ALL_ROLES, ApiKeyScope.ACCOUNT_WRITE)
may_monitor = requires(MONITORS, ApiKeyScope.ADMIN_READ)
may_administer = requires(ADMINS, ApiKeyScope.ADMIN_WRITE)
