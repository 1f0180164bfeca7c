"""A real `riffroom serve` whose worker processes misbehave on every job, for the supervisor tests.

    run_server(root, launcher=faulty_workers.launcher("hang"), ...)

- crash: the worker process dies as its job starts (the lease already taken);
- hang: the separation never returns and never looks at cancel, as a stuck native kernel would.

Nothing in the server changes but the module its supervisor runs as a worker: this one, which
replaces `separate` in the worker process and then runs the real worker's main.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, NoReturn

MODULE = "tests.jobs.faulty_workers"
FAULT_ENV = "TEST_WORKER_FAULT"  # the server sets it; its workers inherit it


def _crash(*_args: Any, **_kwargs: Any) -> NoReturn:
    os._exit(70)


def _hang(*_args: Any, **_kwargs: Any) -> NoReturn:
    while True:
        time.sleep(1)


FAULTS = {"crash": _crash, "hang": _hang}


def launcher(fault: str) -> tuple[str, ...]:
    """What ServerProcess runs after `python -m` instead of `riffroom.cli`."""
    if fault not in FAULTS:
        raise ValueError(f"unknown fault {fault!r}; faults are {', '.join(FAULTS)}")
    return (MODULE, fault)


def _serve(fault: str, argv: list[str]) -> int:
    from riffroom import cli
    from riffroom.jobs import supervisor

    os.environ[FAULT_ENV] = fault
    supervisor.WORKER_MODULE = MODULE
    return cli.main(argv)


def _work(argv: list[str]) -> int:
    import riffroom.separation.api
    from riffroom.jobs import worker

    riffroom.separation.api.separate = FAULTS[os.environ[FAULT_ENV]]  # type: ignore[assignment]
    return worker.main(argv)


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(_work(args) if args[:1] == ["--worker-id"] else _serve(args[0], args[1:]))
