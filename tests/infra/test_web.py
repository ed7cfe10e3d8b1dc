"""The web process's listening socket: connections accepted from it get TCP_NODELAY."""

from __future__ import annotations

import asyncio
import socket

from infra.web import APP, TcpConfig
from tests.conftest import free_port


def test_connections_of_the_multi_worker_socket_have_nodelay():
    config = TcpConfig(APP, host="127.0.0.1", port=free_port(), workers=2)
    listening = config.bind_socket()
    assert listening.proto == socket.IPPROTO_TCP
    accepted = []

    async def serve_one() -> None:
        async def handle(reader, writer) -> None:
            sock = writer.get_extra_info("socket")
            accepted.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(handle, sock=listening)
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", config.port)
            for _ in range(100):
                if accepted:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(serve_one())
    assert accepted == [1]
