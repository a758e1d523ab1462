"""The fixed layout of an ``airgap up`` data directory.

::

    DIR/request/outbox        batches the request network wrote (carried ones in carried/)
    DIR/request/inbox         batches for the request network (archive/, quarantine/)
    DIR/response/outbox
    DIR/response/inbox
    DIR/response/search       the embedded search engine's indices
    DIR/postgres              the embedded PostgreSQL (both networks' databases)
    DIR/request/redis, DIR/response/redis   one embedded Redis per network
    DIR/carrier.paused        present while the automatic carrier is paused
"""

from __future__ import annotations

from pathlib import Path

import attrs

from airgap.domain.model.batching import Network


@attrs.frozen
class Layout:
    root: Path

    def network(self, network: Network) -> Path:
        return self.root / network.value

    def outbox(self, network: Network) -> Path:
        return self.network(network) / "outbox"

    def inbox(self, network: Network) -> Path:
        return self.network(network) / "inbox"

    @property
    def pause_flag(self) -> Path:
        return self.root / "carrier.paused"

    @property
    def credentials(self) -> Path:
        return self.root / "credentials.txt"

    def create(self) -> None:
        for network in Network:
            self.outbox(network).mkdir(parents=True, exist_ok=True)
            for sub in ("archive", "quarantine"):
                (self.inbox(network) / sub).mkdir(parents=True, exist_ok=True)

    def describe(self) -> list[str]:
        return [
            f"  {self.outbox(Network.REQUEST)}   request network outbox",
            f"  {self.inbox(Network.RESPONSE)}   response network inbox",
            f"  {self.outbox(Network.RESPONSE)}  response network outbox",
            f"  {self.inbox(Network.REQUEST)}    request network inbox",
            "  (each inbox has archive/ and quarantine/)",
        ]
