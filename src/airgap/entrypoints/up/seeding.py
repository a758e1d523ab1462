"""What ``airgap up`` puts in place once: sample search data and the first accounts.

Accounts are created on the response network (the source of truth) only when absent, and
reach the request network in a users batch like any account. Passwords come from
``AIRGAP_ADMIN_PASSWORD`` / ``AIRGAP_DEMO_PASSWORD``; otherwise they are generated, printed
once, and kept in ``DIR/credentials.txt`` (mode 0600) so the next start can still tell you.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from pathlib import Path

import attrs

from airgap.adapters.memory.cache import MemoryQueryCache
from airgap.adapters.memory.tasks import MemoryTaskQueue
from airgap.adapters.tantivy.index import index_directories, write_index
from airgap.adapters.tantivy.sample import PRODUCTS_INDEX, generate_products, products_mapping
from airgap.domain.model.batching import Network
from airgap.domain.model.users import ProfileType, Role
from airgap.domain.services.users import CreateUser, create_user, export_users
from airgap.entrypoints.bootstrap.containers import ResponseNetwork
from airgap.entrypoints.bootstrap.settings import Settings

Echo = Callable[[str], None]


@attrs.frozen
class Account:
    username: str
    profile: ProfileType
    role: Role
    password_variable: str


ACCOUNTS = (
    Account("admin", ProfileType.ADMIN, Role.ADMIN, "AIRGAP_ADMIN_PASSWORD"),
    Account("alice", ProfileType.BASIC, Role.USER, "AIRGAP_DEMO_PASSWORD"),
    Account("bob", ProfileType.PREMIUM, Role.USER, "AIRGAP_DEMO_PASSWORD"),
)


def load_sample_data(search_dir: Path, echo: Echo) -> None:
    """Load the ``products`` sample unless an index of that name is already there."""
    if any(path.name == PRODUCTS_INDEX for path in index_directories(search_dir)):
        echo("sample data: products index already loaded")
        return
    echo("sample data: indexing 10,000 products …")
    write_index(search_dir, PRODUCTS_INDEX, products_mapping(), generate_products())
    echo("sample data: products index ready")


def seed_accounts(
    settings: Settings, env: Mapping[str, str], credentials: Path, echo: Echo
) -> dict[str, str]:
    """Create missing accounts; return the passwords chosen in this run (username → pw)."""
    container = ResponseNetwork(
        settings=settings, tasks=MemoryTaskQueue(), cache=MemoryQueryCache()
    )
    container.init_resources()
    try:
        side = container.side()
        hasher = container.hasher()
        chosen: dict[str, str] = {}
        generated_demo: str | None = None
        for account in ACCOUNTS:
            with side.uow() as uow:
                exists = uow.users.get_by_username(account.username) is not None
            if exists:
                continue
            password = env.get(account.password_variable)
            if not password:
                if account.role is Role.USER:  # the demo users share one password
                    generated_demo = generated_demo or secrets.token_urlsafe(12)
                    password = generated_demo
                else:
                    password = secrets.token_urlsafe(12)
                chosen[account.username] = password
            create_user(
                side,
                hasher,
                CreateUser(
                    username=account.username,
                    email=f"{account.username}@airgap.local",
                    password=password,
                    profile_type=account.profile,
                    role=account.role,
                ),
            )
            echo(f"created {account.role.value} account {account.username!r} ({account.profile})")
        export_users(side)
    finally:
        container.shutdown_resources()
    if chosen:
        credentials.touch(mode=0o600)
        with credentials.open("a", encoding="utf-8") as out:
            for username, password in chosen.items():
                out.write(f"{username}\t{password}\n")
    return chosen


def network_settings(
    env: Mapping[str, str], network: Network, data_dir: Path, database_url: str, redis_url: str
) -> Settings:
    merged = dict(env)
    merged.update(AIRGAP_DATABASE_URL=database_url, AIRGAP_REDIS_URL=redis_url)
    for other in Network:
        for name in ("DATABASE_URL", "REDIS_URL"):
            merged.pop(f"AIRGAP_{other.value.upper()}_{name}", None)
    return Settings.from_env(merged, network=network, data_dir=data_dir)
