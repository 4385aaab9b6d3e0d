"""The embedded chain: anvil on 127.0.0.1, started on demand, its state kept under
`$MAGNET_HOME/chain` so records survive restarts.

    with local_chain(home) as rpc_url:
        w3 = Web3(Web3.HTTPProvider(rpc_url))

anvil comes from npm (`@foundry-rs/anvil`, installed into node_modules/ by ./setup.sh).
It dumps its state every second and on exit: a kill -9 loses at most the last second, and
the outbox resends what did not land.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from magnet.tools.errors import ChainError

CHAIN_ID = 31337  # anvil's default
PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 20


def anvil_binary() -> Path:
    local = PROJECT_ROOT / "node_modules" / ".bin" / "anvil"
    if local.exists():
        return local
    found = shutil.which("anvil")
    if found is None:
        raise ChainError("anvil is not installed: run ./setup.sh (npm @foundry-rs/anvil)")
    return Path(found)


@contextmanager
def local_chain(home: Path) -> Iterator[str]:
    """A running anvil on a free 127.0.0.1 port, with the state of earlier runs; stopped
    (and its state saved) on exit."""
    state_dir = home / "chain"
    state_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    cmd = [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(port), "--silent"]
    cmd += ["--chain-id", str(CHAIN_ID), "--state", str(state_dir / "anvil-state.json")]
    cmd += ["--state-interval", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, url)
        yield url
    finally:
        proc.terminate()  # anvil writes its state on SIGTERM
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(proc: subprocess.Popen, url: str) -> None:
    body = b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ChainError(f"anvil exited at start: {proc.stderr.read().strip()[-300:]}")
        try:
            request = urllib.request.Request(
                url, body, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise ChainError(f"anvil did not answer on {url} within {START_TIMEOUT_S} s")
