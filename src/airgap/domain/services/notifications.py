"""Completion notifications (optional, request network): when a request's answer arrives,
POST a small notice to the user's webhook. Delivery is at least once — a retried delivery
may repeat a notice, so receivers deduplicate by ``request_id``."""

from __future__ import annotations

import uuid

from airgap.domain.services.context import RequestSide
from airgap.ports.notifications import CompletionNotice, Notifier, Webhooks


def notify_finished(
    side: RequestSide, webhooks: Webhooks, notifier: Notifier, request_id: uuid.UUID
) -> bool:
    """Deliver the notice for one answered request; False when there is nothing to send
    (no answer yet, unknown request, or a user without a webhook). Raises
    :class:`~airgap.ports.notifications.DeliveryFailed` when delivery fails."""
    with side.uow() as uow:
        request = uow.requests.get(request_id)
        response = uow.responses.get_for_request(request_id)
        user = uow.users.get(request.user_id) if request is not None else None
    if request is None or response is None or user is None:
        return False
    url = webhooks.url_for(user.id, user.username)
    if url is None:
        return False
    notifier.deliver(
        url,
        CompletionNotice(
            request_id=request.id,
            user_id=user.id,
            status=response.status,
            result_count=response.result_count,
            received_at=response.received_at,
            error=response.error,
        ),
    )
    return True
