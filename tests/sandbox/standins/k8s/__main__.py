"""`python -m tests.sandbox.standins.k8s --port N [--state-file F] [--controllers mod,...]`: run the stand-in API server."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
import threading
from pathlib import Path

from .cluster import Cluster
from .server import make_server


class StateSaver:
    """Keeps the state file current: written at most every `interval` seconds when something changed."""

    def __init__(self, cluster: Cluster, path: Path, interval: float = 0.5):
        self.cluster = cluster
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def load(self) -> None:
        if self.path.exists() and self.path.stat().st_size:
            self.cluster.load(json.loads(self.path.read_text()))

    def save(self) -> None:
        with self._lock:
            with self.cluster.lock:
                state = self.cluster.snapshot()
                self.cluster.dirty = False
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps(state, separators=(",", ":")))
            os.replace(tmp, self.path)

    def run(self) -> None:
        while not self._stop.wait(self.interval):
            if self.cluster.dirty:
                self.save()

    def stop(self) -> None:
        self._stop.set()
        self.save()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.sandbox.standins.k8s", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on stdout)")
    parser.add_argument("--state-file", type=Path, help="load the state from it at start and keep it written")
    parser.add_argument(
        "--kubernetes-version",
        default="1.25",
        help="the version /version reports (minor decides " "which removed API versions are still served)",
    )
    parser.add_argument(
        "--controllers",
        default="",
        help="comma-separated modules to import: they register "
        "status hooks with tests.sandbox.standins.k8s.controllers.controller",
    )
    parser.add_argument(
        "--controller-delay",
        type=float,
        default=0.0,
        help="seconds before workload controllers (Deployment, DaemonSet, Job, ...) write status",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    args = parser.parse_args(argv)

    for module in filter(None, (m.strip() for m in args.controllers.split(","))):
        importlib.import_module(module)
    cluster = Cluster(args.kubernetes_version, args.controller_delay, settings=dict(os.environ))
    saver = None
    if args.state_file:
        saver = StateSaver(cluster, args.state_file)
        saver.load()
    server = make_server(cluster, args.host, args.port, verbose=args.verbose, saver=saver)
    if saver:
        threading.Thread(target=saver.run, daemon=True, name="state-saver").start()

    def shutdown(signum, frame):  # pylint: disable=unused-argument
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        if saver:
            saver.stop()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
