"""HTTP plumbing shared by both networks' APIs (Litestar).

- :mod:`.errors` -- one JSON error shape, domain errors mapped by code;
- :mod:`.context` -- request ids (``X-Request-ID``) and the caller's address;
- :mod:`.observability` -- request id in/out, JSON access log, metrics of every call;
- :mod:`.logging` -- structlog JSON logs with request id and user id;
- :mod:`.auth` -- Bearer JWT or ``X-API-Key`` to a Principal, role and scope guards;
- :mod:`.rate_limits` -- the rate-limit headers;
- :mod:`.pagination` -- ``limit``/``offset`` in, ``{items, total, limit, offset}`` out;
- :mod:`.health` -- ``/health``, ``/health/ready``, ``/health/detailed``;
- :mod:`.metrics` -- Prometheus ``/metrics``;
- :mod:`.openapi` -- ``/schema`` with security schemes;
- :mod:`.di` -- ``Injected[T]``: a dependency by name, not validated;
- :mod:`.threads` -- the worker threads blocking work runs on;
- :mod:`.serving` -- uvicorn with several workers and ``TCP_NODELAY`` (see its docstring);
- :mod:`.app` -- :func:`~.app.build_app`, which puts these together around a network's
  handlers.

Nothing here builds anything at import time.
"""
