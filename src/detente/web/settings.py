"""What the dashboard server allows: hosts, body sizes, runs at once, time (docs/limits.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from detente.limits import SERVER_LIMITS, RunLimits

#: Names that always reach a server bound to this machine.
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
#: Bind addresses that mean "every interface": no name of them is a Host to accept.
WILDCARDS = ("0.0.0.0", "::", "")


@dataclass(frozen=True)
class ServerSettings:
    """The server's limits. ``bind_host`` is the address listened on (accepted as a Host, unless
    a wildcard); ``allow_hosts`` are further names a deliberate exposure answers to."""

    bind_host: str = "127.0.0.1"
    allow_hosts: tuple[str, ...] = ()
    #: Request bodies, counted while they stream in (chunked uploads too).
    max_body_bytes: int = 1_000_000
    #: Runs at once (each in its own process), and requests admitted to wait for one.
    run_slots: int = field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)))
    run_queue: int = 8
    #: Seconds a run may take before its process is killed.
    run_timeout: float = 60.0
    #: Seconds a client is told to wait when every slot and queue place is taken.
    retry_after: int = 5
    #: Characters of an error's detail (longer ones are cut: nothing is echoed at length).
    max_detail: int = 300
    limits: RunLimits = SERVER_LIMITS

    def hosts(self) -> frozenset[str]:
        """Host names (lower case, no port) this server answers."""
        names = {*LOCAL_NAMES, *(h.lower().strip("[]") for h in self.allow_hosts)}
        bind = self.bind_host.lower().strip("[]")
        if bind not in WILDCARDS:
            names.add(bind)
        return frozenset(names)
