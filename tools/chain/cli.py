"""`magnet chain status | list | sync`: the contribution ledger, on anvil unless --rpc-url."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated

import typer

from magnet.tools import console

app = typer.Typer(
    help="The contribution ledger on an EVM chain (a local anvil unless --rpc-url).",
    no_args_is_help=True,
)
RpcUrl = Annotated[
    str | None, typer.Option("--rpc-url", help="any EVM JSON-RPC URL (default: local anvil)")
]
ChainId = Annotated[int | None, typer.Option(help="refuse an RPC on another chain")]
Address = Annotated[str | None, typer.Option(help="registry address (default: ours)")]
Keystore = Annotated[
    Path | None,
    typer.Option(help="encrypted key file; else $MAGNET_CHAIN_KEY, else the node's account"),
]
Session = Annotated[str | None, typer.Option(help="one session only")]


@app.command()
def status(rpc_url: RpcUrl = None, chain_id: ChainId = None, address: Address = None) -> None:
    """The chain, the registry and how much of the outbox is on it."""
    traces = _traces()
    with open_registry(rpc_url, chain_id, address, None) as registry:
        rows = traces.outbox()
        info = {
            "chain_id": registry.w3.eth.chain_id,
            "rpc": rpc_url or "local anvil",
            "registry": registry.address,
            "records_on_chain": registry.count(),
            "outbox_sent": sum(r["sent_at"] is not None for r in rows),
            "outbox_pending": sum(r["sent_at"] is None for r in rows),
        }
    console.out.print_json(json.dumps(info))


@app.command("list")
def list_records(
    session: Session = None,
    rpc_url: RpcUrl = None,
    chain_id: ChainId = None,
    address: Address = None,
) -> None:
    """Records on-chain, one JSON object a line (a session's, or all)."""
    with open_registry(rpc_url, chain_id, address, None) as registry:
        records = (
            registry.session(session)
            if session
            else [registry.get(i) for i in range(registry.count())]
        )
        for r in records:
            console.out.print(r.model_dump_json(), markup=False, highlight=False, soft_wrap=True)


@app.command()
def sync(
    session: Session = None,
    rpc_url: RpcUrl = None,
    chain_id: ChainId = None,
    address: Address = None,
    keystore: Keystore = None,
) -> None:
    """Send the outbox to the chain; each record lands once, failures stay queued."""
    from magnet.tools.chain.outbox import sync as send
    from magnet.tools.errors import ChainError

    with open_registry(rpc_url, chain_id, address, keystore) as registry:
        report = send(_traces(), registry, session)
    console.out.print(
        f"sent {report.sent}, already on-chain {report.already}, still queued {report.pending}",
        highlight=False,
    )
    if report.error:
        raise ChainError(f"{report.error}; {report.pending} record(s) stay in the outbox")


@contextmanager
def open_registry(rpc_url, chain_id, address, keystore) -> Iterator:
    """The registry on the chain asked for, deployed there first if we have none yet."""
    from magnet.tools.chain.anvil import local_chain
    from magnet.tools.chain.client import connect
    from magnet.tools.paths import magnet_home

    home = magnet_home()
    with nullcontext(rpc_url) if rpc_url else local_chain(home) as url:
        w3, account = connect(url, chain_id, keystore)
        yield _registry(home / "chain" / "deployments.json", w3, account, address)


def _registry(book: Path, w3, account: str, address: str | None):
    from magnet.tools.chain.registry import Registry

    known = json.loads(book.read_text()) if book.exists() else {}
    address = address or known.get(str(w3.eth.chain_id))
    if address:
        return Registry(w3, address, account)
    registry = Registry.deploy(w3, account)
    book.parent.mkdir(parents=True, exist_ok=True)
    book.write_text(json.dumps({**known, str(w3.eth.chain_id): registry.address}, indent=1))
    console.err.print(f"deployed ContributionRegistry at {registry.address}", highlight=False)
    return registry


def _traces():
    from magnet.agent.traces import TraceStore
    from magnet.tools.paths import magnet_home

    return TraceStore(magnet_home() / "magnet.db")
