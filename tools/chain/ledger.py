"""Which chain the ledger is on, and sending a session's outbox there.

    ledger = Ledger()                                   # the embedded anvil
    ledger = Ledger(rpc_url="https://rpc.example", chain_id=1234)
    with ledger.registry() as registry: ...             # deployed first if we have none there
    ledger.send(outbox, session_id)                     # a SyncReport; never raises

The registry's address per chain id is kept in `$MAGNET_HOME/chain/deployments.json`. The
private key comes from the environment or `keystore` (tools/chain/client.py): a Ledger holds
only where to find it, so it can be stored with a session.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from pydantic import BaseModel

from magnet.tools import console
from magnet.tools.chain.outbox import Outbox, SyncReport, sync
from magnet.tools.errors import ChainError


class Ledger(BaseModel):
    rpc_url: str | None = None  # None: the embedded anvil
    chain_id: int | None = None  # refuse an RPC on another chain
    address: str | None = None  # None: the registry we deployed on that chain
    keystore: Path | None = None

    @contextmanager
    def registry(self) -> Iterator:
        """The registry on this chain, deployed there first if we have none yet."""
        from magnet.tools.chain.anvil import local_chain
        from magnet.tools.chain.client import connect
        from magnet.tools.paths import magnet_home

        home = magnet_home()
        with nullcontext(self.rpc_url) if self.rpc_url else local_chain(home) as url:
            w3, account = connect(url, self.chain_id, self.keystore)
            yield _registry(home / "chain" / "deployments.json", w3, account, self.address)

    def send(self, outbox: Outbox, session_id: str | None = None) -> SyncReport:
        """Sync the outbox; a chain that is down or refuses leaves the rows queued and says
        why in the report (`magnet chain sync` sends them later)."""
        try:
            with self.registry() as registry:
                return sync(outbox, registry, session_id)
        except ChainError as e:
            pending = len(outbox.rows(session_id, unsent_only=True))
            return SyncReport(pending=pending, error=str(e))


def _registry(book: Path, w3, account: str, address: str | None):
    from magnet.tools.chain.registry import Registry

    known = json.loads(book.read_text()) if book.exists() else {}
    if address:
        return Registry(w3, address, account)
    ours = known.get(str(w3.eth.chain_id))
    if ours and w3.eth.get_code(ours) not in (b"", b"\x00"):
        return Registry(w3, ours, account)
    if ours:  # a reset chain (anvil's state removed): records sent before are gone with it
        console.warning(f"the registry at {ours} is gone from chain {w3.eth.chain_id}")
    registry = Registry.deploy(w3, account)
    book.parent.mkdir(parents=True, exist_ok=True)
    book.write_text(json.dumps({**known, str(w3.eth.chain_id): registry.address}, indent=1))
    console.err.print(f"deployed ContributionRegistry at {registry.address}", highlight=False)
    return registry
