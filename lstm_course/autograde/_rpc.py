"""One request at a time between the verifier (V) and the answer process (A), over two pipes.

A message is a 4-byte length and a JSON object (``_transport`` encodes the values in it). V asks
(``request``) and A answers; while A works on a request it may ask V back (a callback: the test
passed one of its own functions, e.g. the ``f`` of a gradient check), and V may ask A again from
inside that callback, so both sides wait for their reply with ``request``, serving whatever
request comes meanwhile. Replies carry the number of their request: a late reply to a request
that V gave up on (its test timed out) is dropped. Standard library only: A imports it.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time

MAX_MESSAGE = 256 * 2**20
MAX_NESTING = 32


class PeerGone(RuntimeError):
    """The other side closed its end, sent garbage, or did not answer in time."""


class Endpoint:
    def __init__(self, rfd: int, wfd: int, serve=None):
        self.rfd, self.wfd = rfd, wfd
        self.serve = serve  # request dict -> reply dict (the reply's "seq" is set here)
        self.seq = 0
        self.depth = 0
        self.closed = False

    # -- framing -------------------------------------------------------------------------------
    def send(self, message: dict) -> None:
        data = json.dumps(message, allow_nan=True).encode("utf-8")
        view = memoryview(struct.pack(">I", len(data)) + data)
        try:
            while view:
                n = os.write(self.wfd, view)
                view = view[n:]
        except OSError as exc:
            self.closed = True
            raise PeerGone(f"the other process closed its channel ({exc})") from exc

    def _read_exact(self, n: int, deadline: float | None) -> bytes:
        chunks, left = [], n
        while left:
            if deadline is not None:
                wait = deadline - time.monotonic()
                if wait <= 0 or not select.select([self.rfd], [], [], wait)[0]:
                    raise PeerGone("no answer in time")
            chunk = os.read(self.rfd, min(left, 1 << 20))
            if not chunk:
                self.closed = True
                raise PeerGone("the other process stopped")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def receive(self, deadline: float | None = None) -> dict:
        if self.closed:
            raise PeerGone("the other process stopped")
        (size,) = struct.unpack(">I", self._read_exact(4, deadline))
        if size > MAX_MESSAGE:
            self.closed = True
            raise PeerGone(f"the other process sent {size} bytes, more than the grader accepts")
        try:
            message = json.loads(self._read_exact(size, deadline))
        except (ValueError, UnicodeDecodeError) as exc:
            self.closed = True
            raise PeerGone("the other process sent something that is not a message") from exc
        if not isinstance(message, dict):
            self.closed = True
            raise PeerGone("the other process sent something that is not a message")
        return message

    # -- requests ------------------------------------------------------------------------------
    def request(self, message: dict, deadline: float | None = None) -> dict:
        """Send a request and wait for its reply, serving the other side's requests meanwhile."""
        self.seq += 1
        seq = self.seq
        self.send(dict(message, kind="req", seq=seq))
        while True:
            incoming = self.receive(deadline)
            if incoming.get("kind") == "rep":
                if incoming.get("seq") == seq:
                    return incoming
                continue  # the late reply of a request given up on
            self.handle(incoming)

    def handle(self, incoming: dict) -> None:
        if incoming.get("kind") != "req" or self.serve is None:
            self.closed = True
            raise PeerGone("the other process sent an unexpected message")
        if self.depth >= MAX_NESTING:
            reply = {"error": {"type": "RecursionError", "message": "calls nested too deeply"}}
        else:
            self.depth += 1
            try:
                reply = self.serve(incoming)
            finally:
                self.depth -= 1
        self.send(dict(reply, kind="rep", seq=incoming.get("seq")))

    def serve_forever(self) -> None:
        while True:
            self.handle(self.receive())
