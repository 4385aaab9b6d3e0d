"""`magnet chain status | list | sync | verify`: the contribution ledger, on anvil unless
--rpc-url."""

from __future__ import annotations

import json
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
    with _ledger(rpc_url, chain_id, address).registry() as registry:
        rows = _outbox().rows()
        info = {
            "chain_id": registry.w3.eth.chain_id,
            "rpc": rpc_url or "local anvil",
            "registry": registry.address,
            "records_on_chain": registry.count(),
            "outbox_sent": sum(r.sent_at is not None for r in rows),
            "outbox_pending": sum(r.sent_at is None for r in rows),
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
    with _ledger(rpc_url, chain_id, address).registry() as registry:
        records = (
            registry.session(session)
            if session
            else [registry.get(i) for i in range(registry.count())]
        )
        for r in records:
            console.line(r.model_dump_json())


@app.command()
def sync(
    session: Session = None,
    rpc_url: RpcUrl = None,
    chain_id: ChainId = None,
    address: Address = None,
    keystore: Keystore = None,
) -> None:
    """Send the outbox to the chain; each record lands once, failures stay queued."""
    from magnet.tools.errors import ChainError

    report = _ledger(rpc_url, chain_id, address, keystore).send(_outbox(), session)
    console.out.print(
        f"sent {report.sent}, already on-chain {report.already}, still queued {report.pending}",
        highlight=False,
    )
    if report.error:
        raise ChainError(f"{report.error}; {report.pending} record(s) stay in the outbox")


@app.command()
def verify(
    session: Annotated[str, typer.Argument(help="the session id (magnet sessions)")],
    rpc_url: RpcUrl = None,
    chain_id: ChainId = None,
    address: Address = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object a line")] = False,
) -> None:
    """Recompute each record's hash from the local artifacts and compare with the chain.
    Exits 1 when a record is tampered, missing or unknown."""
    from magnet.tools.chain.verify import verify as check
    from magnet.tools.errors import SessionNotFound

    with _ledger(rpc_url, chain_id, address).registry() as registry:
        checks = check(_outbox(), registry, session)
    if not checks:
        raise SessionNotFound(f"no records of session '{session}' here or on-chain")
    for c in checks:
        if as_json:
            console.line(c.model_dump_json())
        else:
            record = "" if c.record_id is None else f" record {c.record_id}"
            console.line(f"{c.status:9} {c.kind:10} {c.experiment_id}{record}  {c.detail}".rstrip())
    counts = {
        s: sum(c.status == s for c in checks) for s in dict.fromkeys(c.status for c in checks)
    }
    console.err.print(", ".join(f"{n} {s}" for s, n in counts.items()), highlight=False)
    if any(c.status in ("tampered", "missing", "unknown") for c in checks):
        raise typer.Exit(1)


def _ledger(rpc_url, chain_id, address, keystore=None):
    from magnet.tools.chain.ledger import Ledger

    return Ledger(rpc_url=rpc_url, chain_id=chain_id, address=address, keystore=keystore)


def _outbox():
    from magnet.tools.chain.outbox import Outbox

    return Outbox()
