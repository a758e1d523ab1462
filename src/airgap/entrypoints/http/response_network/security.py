"""Who may do what on the response network: operators read, admins act.

API keys narrow their owner's role by scope: ``read`` lets a key read monitoring data,
``admin`` lets an admin's key act, ``*`` grants both. Creating or revoking API keys needs a
token or a ``*`` key, so a narrowed key cannot mint a wider one.
"""

from __future__ import annotations

from airgap.domain.model.users import Role
from airgap.domain.services.user_admin import STAFF_ROLES
from airgap.entrypoints.http.common.auth import requires

STAFF = STAFF_ROLES
READ_SCOPE = "read"
ADMIN_SCOPE = "admin"
WHOLE_KEY = "*"

READ = requires(STAFF, scope=READ_SCOPE)
"""Operators and admins (keys with the ``read`` scope)."""

ACT = requires({Role.ADMIN}, scope=ADMIN_SCOPE)
"""Admins only (keys with the ``admin`` scope); operators get 403."""
