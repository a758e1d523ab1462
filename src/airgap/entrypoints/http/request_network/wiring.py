"""What the request network's API asks the composition root for, as Litestar ``Provide``
functions that call the container -- never dependency-injector's ``@inject`` in handler
signatures (litestar issue #582).

:class:`ApiReads` adds to the network's container what only the API reads: the admin lists,
its own figures, and the answer cache in front of the responses table.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import attrs
from dependency_injector import containers, providers
from litestar import Request
from litestar.di import Provide

from airgap.adapters.postgres.api_queries import RequestApiQueries
from airgap.adapters.postgres.read_models import RequestNetworkQueries
from airgap.adapters.redis.response_cache import RedisResponseCache
from airgap.domain.model.passwords import PasswordPolicy
from airgap.domain.services.auth import Authenticator, Principal
from airgap.domain.services.context import RequestSide
from airgap.entrypoints.bootstrap.containers import RequestNetwork
from airgap.entrypoints.http.common.auth import principal_of
from airgap.entrypoints.http.common.context import caller_of
from airgap.entrypoints.http.common.pagination import page_params
from airgap.entrypoints.http.request_network.audit import CallerUnitOfWork
from airgap.entrypoints.http.request_network.metrics import RequestNetworkMetrics
from airgap.ports.clock import Clock
from airgap.ports.passwords import PasswordHasher
from airgap.ports.response_cache import ResponseCache
from airgap.ports.tokens import TokenIssuer


class ApiReads(containers.DeclarativeContainer):
    network = providers.DependenciesContainer()
    queries = providers.Singleton(RequestNetworkQueries, network.store.provided.engine)
    api_queries = providers.Singleton(RequestApiQueries, network.store.provided.engine)
    answers = providers.Singleton(RedisResponseCache, network.redis)
    password_policy = providers.Singleton(PasswordPolicy)


def dependencies(
    container: RequestNetwork, reads: ApiReads, metrics: RequestNetworkMetrics
) -> dict[str, Provide]:
    """Every name a handler may ask for."""

    def side(request: Request[Any, Any, Any]) -> RequestSide:
        base: RequestSide = container.side()
        # The use cases' audit entries get this caller's address, user agent and request id.
        caller = caller_of(request.scope)
        return attrs.evolve(base, uow=functools.partial(CallerUnitOfWork, base.uow, caller))

    def principal(request: Request[Any, Any, Any]) -> Principal:
        return principal_of(request)

    def authenticator() -> Authenticator:
        found: Authenticator = container.authenticator()
        return found

    def tokens() -> TokenIssuer:
        found: TokenIssuer = container.tokens()
        return found

    def hasher() -> PasswordHasher:
        found: PasswordHasher = container.hasher()
        return found

    def clock() -> Clock:
        found: Clock = container.transfer.clock()
        return found

    def password_policy() -> PasswordPolicy:
        found: PasswordPolicy = reads.password_policy()
        return found

    def queries() -> RequestNetworkQueries:
        found: RequestNetworkQueries = reads.queries()
        return found

    def api_queries() -> RequestApiQueries:
        found: RequestApiQueries = reads.api_queries()
        return found

    def answers() -> ResponseCache:
        found: ResponseCache = reads.answers()
        return found

    def api_metrics() -> RequestNetworkMetrics:
        return metrics

    providers_by_name: dict[str, Callable[..., Any]] = {
        "side": side,
        "principal": principal,
        "authenticator": authenticator,
        "tokens": tokens,
        "hasher": hasher,
        "clock": clock,
        "password_policy": password_policy,
        "queries": queries,
        "api_queries": api_queries,
        "answers": answers,
        "api_metrics": api_metrics,
        "page": page_params,
    }
    return {name: Provide(fn, sync_to_thread=False) for name, fn in providers_by_name.items()}
