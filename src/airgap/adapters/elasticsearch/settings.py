"""How to reach the Elasticsearch cluster, read from the environment by the composition root.

The adapter never reads the environment itself; :meth:`ElasticsearchSettings.from_env` is
the one place that knows the variable names (``AIRGAP_ELASTICSEARCH_URL`` and friends).
Secrets stay out of ``repr`` so a settings object can be logged.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

__all__ = ["ElasticsearchSettings"]

_PREFIX = "AIRGAP_ELASTICSEARCH_"
_FALSE = {"0", "false", "no", "off"}


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be positive, got {value!r}")


@attrs.frozen
class ElasticsearchSettings:
    """Connection and safety settings of the Elasticsearch backend.

    ``request_timeout_s`` is the ceiling for one search including its retries (SPEC §6:
    30 s); ``max_size`` the largest ``size`` a search may ask for; ``max_retries`` how many
    times a connection error or timeout is retried (with exponential back-off from
    ``retry_backoff_s``, capped at ``max_backoff_s``) before the search fails as transient.
    """

    url: str
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    api_key: str | None = attrs.field(default=None, repr=False)
    ca_certs: str | None = None
    verify_certs: bool = True
    request_timeout_s: float = attrs.field(default=30.0, validator=_positive)
    max_size: int = 1000
    max_retries: int = attrs.field(default=3, validator=attrs.validators.ge(0))
    retry_backoff_s: float = attrs.field(default=0.5, validator=_positive)
    max_backoff_s: float = attrs.field(default=8.0, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.password is not None and self.username is None:
            raise ValueError("an Elasticsearch password needs a username")
        if self.api_key is not None and self.username is not None:
            raise ValueError("use either an API key or a username and password, not both")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ElasticsearchSettings | None:
        """Settings from ``AIRGAP_ELASTICSEARCH_*`` variables; None when no URL is set.

        ``URL``, ``USERNAME``, ``PASSWORD``, ``API_KEY``, ``CA_CERTS`` (a PEM file),
        ``VERIFY_CERTS`` (``false`` to disable, for test clusters only), ``TIMEOUT`` (s),
        ``MAX_SIZE``, ``MAX_RETRIES``.
        """

        def get(name: str) -> str | None:
            value = env.get(_PREFIX + name, "").strip()
            return value or None

        url = get("URL")
        if url is None:
            return None
        verify = get("VERIFY_CERTS")
        timeout = get("TIMEOUT")
        max_size = get("MAX_SIZE")
        retries = get("MAX_RETRIES")
        return cls(
            url=url,
            username=get("USERNAME"),
            password=get("PASSWORD"),
            api_key=get("API_KEY"),
            ca_certs=get("CA_CERTS"),
            verify_certs=verify is None or verify.lower() not in _FALSE,
            request_timeout_s=float(timeout) if timeout else 30.0,
            max_size=int(max_size) if max_size else 1000,
            max_retries=int(retries) if retries else 3,
        )
