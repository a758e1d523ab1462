"""A request's answer for its owner: from the answer cache when it is there, else from the
store (and then cached)."""

from __future__ import annotations

import uuid

from airgap.domain.model.errors import NotFound
from airgap.domain.model.requests import Response
from airgap.domain.model.users import Role, User
from airgap.domain.services.context import RequestSide
from airgap.domain.services.requests import get_request
from airgap.ports.response_cache import CachedAnswer, ResponseCache


def answer_for(
    side: RequestSide, cache: ResponseCache, viewer: User, request_id: uuid.UUID
) -> Response:
    """The answer to ``request_id`` for ``viewer`` (its owner, or an admin), who has just
    been authenticated. ``NotFound`` while there is none yet, and for anyone else's request
    (the same answer, so nobody learns which ids exist)."""
    cached = cache.get(request_id)
    if cached is not None:
        if cached.owner_id != viewer.id and viewer.role is not Role.ADMIN:
            raise NotFound("request not found")
        return cached.response
    view = get_request(side, viewer.id, request_id)
    if view.response is None:
        raise NotFound(f"request {request_id} has no answer yet (it is {view.request.status})")
    cache.put(CachedAnswer(owner_id=view.request.user_id, response=view.response))
    return view.response
