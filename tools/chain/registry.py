"""The ContributionRegistry contract from Python (web3.py): deploy or attach, record, read.

    registry = Registry.deploy(w3, account)          # or Registry(w3, address, account)
    record_id = registry.record(Contribution(session_id="s1", experiment_id="s1-000",
                                             kind="experiment", content_hash=sha, metric=0.91))
    registry.get(record_id)              # an OnChain record
    registry.session("s1")               # every record of a session, oldest first
    registry.find(sha)                   # the id under which a content hash was recorded

Session and experiment ids go on-chain as their sha256 (ids stay private, records stay
comparable); metrics as integers scaled by 1e6. The contract refuses a content hash twice:
`AlreadyRecorded` carries the id it has.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from magnet.tools.errors import ChainError

ARTIFACT = Path(__file__).with_name("ContributionRegistry.json")
KINDS = ("dataset", "experiment", "model", "merge")  # the contract's enum, in order
SCALE = 10**6
NO_METRIC = -(2**255)  # int256 min: the contribution has no metric

Kind = Literal["dataset", "experiment", "model", "merge"]


class Contribution(BaseModel):
    session_id: str
    experiment_id: str = ""
    kind: Kind
    content_hash: str = Field(pattern=r"^(0x)?[0-9a-fA-F]{64}$", description="sha256, hex")
    metric: float | None = None
    uri: str = ""


class OnChain(BaseModel):
    id: int
    session_hash: str
    experiment_hash: str
    contributor: str
    kind: Kind
    content_hash: str
    metric: float | None
    uri: str
    timestamp: int


class AlreadyRecorded(ChainError):
    def __init__(self, content_hash: str, record_id: int) -> None:
        super().__init__(f"content {content_hash[:12]}… is already recorded (record {record_id})")
        self.record_id = record_id


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@cache
def artifact() -> dict:
    """ABI and bytecode compiled by tools/chain/compile.js (committed)."""
    return json.loads(ARTIFACT.read_text())


class Registry:
    def __init__(self, w3, address: str, account: str | None = None) -> None:
        if not w3.is_address(address):
            raise ChainError(f"'{address}' is not an address")
        self.w3, self.address = w3, w3.to_checksum_address(address)
        self.account = account or w3.eth.accounts[0]
        if w3.eth.get_code(self.address) in (b"", b"\x00"):
            raise ChainError(f"no contract at {self.address} on chain {w3.eth.chain_id}")
        self.contract = w3.eth.contract(address=self.address, abi=artifact()["abi"])

    @classmethod
    def deploy(cls, w3, account: str | None = None) -> Registry:
        account = account or w3.eth.accounts[0]
        factory = w3.eth.contract(abi=artifact()["abi"], bytecode=artifact()["bytecode"])
        receipt = _transact(w3, factory.constructor(), account, "deploying the registry")
        return cls(w3, receipt.contractAddress, account)

    def record(self, c: Contribution) -> int:
        content = _bytes32(c.content_hash)
        found, existing = self.contract.functions.findContent(content).call()
        if found:  # cheaper than a reverted transaction, and a clear error
            raise AlreadyRecorded(c.content_hash, existing)
        metric = NO_METRIC if c.metric is None else round(c.metric * SCALE)
        call = self.contract.functions.record(
            _bytes32(sha256_hex(c.session_id)),
            _bytes32(sha256_hex(c.experiment_id)),
            KINDS.index(c.kind),
            content,
            metric,
            c.uri,
        )
        receipt = _transact(self.w3, call, self.account, "recording")
        [event] = self.contract.events.Recorded().process_receipt(receipt)
        return event.args.id

    def get(self, record_id: int) -> OnChain:
        if not 0 <= record_id < self.count():
            raise ChainError(f"no record {record_id} (the registry holds {self.count()})")
        r = self.contract.functions.get(record_id).call()
        return OnChain(
            id=record_id,
            session_hash=r[0].hex(),
            experiment_hash=r[1].hex(),
            contributor=r[2],
            kind=KINDS[r[3]],
            content_hash=r[4].hex(),
            metric=None if r[5] == NO_METRIC else r[5] / SCALE,
            uri=r[6],
            timestamp=r[7],
        )

    def count(self) -> int:
        return self.contract.functions.count().call()

    def session(self, session_id: str) -> list[OnChain]:
        ids = self.contract.functions.idsOf(_bytes32(sha256_hex(session_id))).call()
        return [self.get(i) for i in ids]

    def find(self, content_hash: str) -> int | None:
        found, record_id = self.contract.functions.findContent(_bytes32(content_hash)).call()
        return record_id if found else None


def _transact(w3, call, account: str, doing: str):
    """Send and wait; the node's refusal (no funds, a revert) as one clear ChainError."""
    from web3.exceptions import Web3Exception

    try:
        receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": account}))
    except (Web3Exception, ValueError) as e:
        error = (getattr(e, "rpc_response", None) or {}).get("error") or {}
        reason = error.get("message") or str(e)
        raise ChainError(f"the chain refused {doing} from {account}: {reason[:200]}") from None
    if receipt.status != 1:
        raise ChainError(f"{doing} failed on-chain (transaction {receipt.transactionHash.hex()})")
    return receipt


def _bytes32(hex_digest: str) -> bytes:
    return bytes.fromhex(hex_digest.removeprefix("0x"))
