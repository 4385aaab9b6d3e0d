"""Fault-tolerant DiLoCo on torchft: a worker that dies drops out of the average.

Each worker is a replica group of one. A lighthouse (on 127.0.0.1, in the launcher) forms a
quorum at every sync, and the pseudo-gradients are averaged over the workers in it with
torchft's allreduce; with min_replicas=1 the survivors go on when one dies. The outer step is
ours (outer.py), as with gloo. torchft's manager and checkpoint servers listen on every
interface (torchft fixes their bind address): the mode is off unless asked for.

Not covered: a worker that joins late or restarts (torchft would heal it from a peer's state,
which we do not register).
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta

import torch

HEARTBEAT_MS = 2000  # a worker silent this long is out of the next quorum
JOIN_MS = 30_000  # the first quorum waits this long for every worker to start


def start_lighthouse():
    """The quorum coordinator, in the calling process; `.address()` for the workers."""
    os.environ.setdefault("RUST_LOG", "warn")  # its quorum log is several lines a sync
    from torchft._torchft import LighthouseServer

    return LighthouseServer(
        bind="127.0.0.1:0",
        min_replicas=1,
        join_timeout_ms=JOIN_MS,
        quorum_tick_ms=50,
        heartbeat_timeout_ms=HEARTBEAT_MS,
    )


class TorchftEngine:
    def __init__(self, rank: int, lighthouse: str, timeout: timedelta) -> None:
        from torch.distributed import TCPStore
        from torchft import Manager, ProcessGroupGloo

        self.rank = rank
        # The replica group's own store, held to the loopback interface by a bound socket.
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        port = self._listener.getsockname()[1]
        self._store = TCPStore(
            "127.0.0.1",
            port,
            is_master=True,
            master_listen_fd=self._listener.fileno(),
            wait_for_workers=False,
        )
        self.manager = Manager(
            pg=ProcessGroupGloo(timeout=timeout),
            min_replica_size=1,
            load_state_dict=None,
            state_dict=None,
            use_async_quorum=False,
            replica_id=f"worker-{rank}",
            store_addr="127.0.0.1",
            store_port=port,
            lighthouse_addr=lighthouse,
            rank=0,
            world_size=1,
            hostname="127.0.0.1",
            init_sync=False,
            timeout=timeout,
            quorum_timeout=timeout,
        )

    def all_reduce_mean(self, t: torch.Tensor) -> None:
        self.manager.allreduce(t).wait()

    def sync(self, outer, model: torch.nn.Module, compression) -> int:
        self.manager.start_quorum()
        sent = outer.sync(model, self.all_reduce_mean, compression)
        self.manager.should_commit()
        return sent

    def writes_merged(self) -> bool:
        return True  # no barrier to wait at: every survivor offers it, the first one stays

    def close(self) -> None:
        self.manager.shutdown()
