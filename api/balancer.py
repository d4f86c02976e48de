"""``ioffice serve --workers N``: the parent accepts the connections and hands them to the workers
in turn (round robin), as Node.js's cluster module does by default.

uvicorn's own ``--workers`` shares one listening socket: every worker wakes on a new connection and
the first to run accepts every connection waiting. With keep-alive clients connecting at once the
split is lopsided and stays so — measured here with 32 clients on 2 workers: 27 and 5 connections,
the busy worker's median latency five times the other's. Here the parent's dispatcher thread
accepts and sends each connection (its file descriptor, over a Unix socket, ``SCM_RIGHTS``) to
the next worker; a worker adopts it on its event loop as if it had accepted it itself. uvicorn
keeps everything else: its supervisor restarts dead workers, and each worker runs its own app,
lifespan and graceful shutdown.
"""
from __future__ import annotations

import asyncio
import logging
import os
import selectors
import shutil
import socket
import tempfile
import threading
from typing import Any

import uvicorn
from uvicorn.supervisors import multiprocess

logger = logging.getLogger("ioffice.serve")

DISPATCH_ENV = "IOFFICE_DISPATCH_SOCKET"  # the parent's registration socket, inherited by workers


class Dispatcher(threading.Thread):
    """Accept on ``listener`` and send each connection to the next registered worker."""

    def __init__(self, listener: socket.socket, path: str) -> None:
        super().__init__(name="ioffice-dispatch", daemon=True)
        self.listener = listener
        self.listener.setblocking(False)
        self.registry = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.registry.bind(path)
        self.registry.listen(64)
        self.workers: list[socket.socket] = []
        self.turn = 0
        self.stopping = threading.Event()
        self.selector = selectors.DefaultSelector()

    def run(self) -> None:
        sel = self.selector
        sel.register(self.registry, selectors.EVENT_READ, "register")
        listening = False
        while not self.stopping.is_set():
            # Connections wait in the kernel's queue while no worker is ready (start-up, restarts).
            if self.workers and not listening:
                sel.register(self.listener, selectors.EVENT_READ, "accept")
                listening = True
            elif not self.workers and listening:
                sel.unregister(self.listener)
                listening = False
            for key, _ in sel.select(timeout=0.5):
                if key.data == "register":
                    channel, _ = self.registry.accept()
                    channel.setblocking(False)
                    self.workers.append(channel)
                    sel.register(channel, selectors.EVENT_READ, "worker")
                elif key.data == "accept":
                    self._accept_waiting()
                else:  # a worker's channel is readable only when it closed: the worker is gone
                    self._drop(key.fileobj)  # type: ignore[arg-type]
        for channel in self.workers:
            channel.close()
        self.registry.close()

    def _accept_waiting(self) -> None:
        for _ in range(64):
            try:
                conn, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. EMFILE: leave the rest in the queue for the next round
                logger.warning("accept failed: %s", exc)
                return
            try:
                self._hand_over(conn)
            finally:
                conn.close()  # the worker holds its own descriptor now

    def _hand_over(self, conn: socket.socket) -> None:
        for _ in range(len(self.workers)):
            channel = self.workers[self.turn % len(self.workers)]
            self.turn += 1
            try:
                socket.send_fds(channel, [b"c"], [conn.fileno()])
                return
            except BlockingIOError:  # this worker is not reading (stuck): try the next one
                continue
            except OSError:
                self._drop(channel)
        logger.warning("no worker could take a connection: closed it")

    def _drop(self, channel: socket.socket) -> None:
        if channel in self.workers:
            self.workers.remove(channel)
        try:
            self.selector.unregister(channel)
        except (KeyError, ValueError):
            pass
        channel.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)


class BalancedServer(uvicorn.Server):
    """A worker that serves the connections the parent sends it instead of accepting its own."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # the app's lifespan; no listening socket of its own
        loop = asyncio.get_running_loop()
        self._channel = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._channel.connect(os.environ[DISPATCH_ENV])
        self._channel.setblocking(False)
        loop.add_reader(self._channel.fileno(), self._receive)

    def _protocol(self) -> asyncio.Protocol:
        protocol: asyncio.Protocol = self.config.http_protocol_class(  # type: ignore[call-arg]
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state)
        return protocol

    def _receive(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                msg, fds, _flags, _addr = socket.recv_fds(self._channel, 16, 16)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                msg, fds = b"", []
            if not msg and not fds:  # the parent is gone: finish what is in flight and stop
                self._close_channel()
                self.should_exit = True
                return
            for fd in fds:
                conn = socket.socket(fileno=fd)
                task = loop.create_task(loop.connect_accepted_socket(self._protocol, conn, ssl=self.config.ssl))
                task.add_done_callback(_log_failure)

    def _close_channel(self) -> None:
        channel = getattr(self, "_channel", None)
        if channel is not None and channel.fileno() >= 0:
            asyncio.get_running_loop().remove_reader(channel.fileno())
            channel.close()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._close_channel()  # no new connections; uvicorn then closes the open ones gracefully
        await super().shutdown(sockets=sockets)


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("could not adopt a connection: %s", task.exception())


class BalancedProcess(multiprocess.Process):
    """uvicorn's worker process, running a :class:`BalancedServer`."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = BalancedServer(config=self.config)
        return self._server


def run(config: uvicorn.Config) -> None:
    """Serve ``config.app`` with ``config.workers`` processes behind the round-robin dispatcher."""
    listener = config.bind_socket()
    listener.listen(config.backlog)
    workdir = tempfile.mkdtemp(prefix="ioffice-dispatch-")  # private (0700): only we may register
    path = os.path.join(workdir, "workers.sock")
    dispatcher = Dispatcher(listener, path)
    os.environ[DISPATCH_ENV] = path
    dispatcher.start()
    # uvicorn's supervisor makes its workers from this module-level name (start, restart, SIGTTIN).
    multiprocess.Process = BalancedProcess  # type: ignore[misc]
    try:
        multiprocess.Multiprocess(config, sockets=[]).run()
    finally:
        dispatcher.stop()
        listener.close()
        shutil.rmtree(workdir, ignore_errors=True)
