"""Background work through Dramatiq, addressed by actor name (``"<area>.<verb>"``).

The adapter never imports actor modules (use cases and adapters must not know them): it
builds the message itself and hands it to the broker the composition root configured. Use
cases call :meth:`enqueue` only after their unit of work has committed, so a worker never
looks for a row that is not there yet; Dramatiq delivers at least once, and every actor is
idempotent.
"""

from __future__ import annotations

import dramatiq


class DramatiqTaskQueue:
    def __init__(self, broker: dramatiq.Broker, *, queue_name: str = "default") -> None:
        self._broker = broker
        self._queue = queue_name

    def enqueue(self, task: str, **kwargs: str | int) -> None:
        message: dramatiq.Message[object] = dramatiq.Message(
            queue_name=self._queue,
            actor_name=task,
            args=(),
            kwargs=dict(kwargs),
            options={},
        )
        self._broker.enqueue(message)
