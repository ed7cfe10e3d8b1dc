"""The web process: uvicorn serving ``console.asgi`` with several worker processes.

``python -m infra.web --port 8000 --workers 2``. Why not ``uvicorn --workers``: its multi-worker
mode binds the listening socket without naming the protocol (``proto`` 0), and asyncio sets
TCP_NODELAY only on connections whose socket says IPPROTO_TCP. Without it, Nagle's algorithm
holds the second piece of every response until the client's delayed ACK: measured here, a
console page took 64 ms with ``--workers 2`` and 8 ms with one worker. This binds the same
socket with its protocol named, so every accepted connection gets TCP_NODELAY.
"""

from __future__ import annotations

import argparse
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

APP = "console.asgi:application"
# Longer than clients keep idle connections (boto3/urllib3: 60 s), so the server never closes
# one just as a client sends its next request on it.
KEEP_ALIVE_SECONDS = 75


class TcpConfig(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        bound = super().bind_socket()
        if bound.family not in (socket.AF_INET, socket.AF_INET6):
            return bound
        tcp = socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())
        tcp.set_inheritable(True)
        return tcp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    config = TcpConfig(
        APP,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    if args.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
