"""MessagePack-RPC clients that users already have, against the real daemon: pynvim's
msgpack_rpc session (Debian python3-pynvim), which opens with a notification whose method name is
a msgpack bin, and raw frames for what the spec promises of notifications: never answered, however
malformed, and requests keep working after them."""

import socket

import msgpack
import pytest


def test_pynvim_session(daemon):
    """pynvim's tcp_session: its opening bin-named notification is ignored, requests with str
    method names are answered, an error comes back as pynvim's ErrorResponse, and a problem can be
    built and solved."""
    msgpack_rpc = pytest.importorskip("pynvim.msgpack_rpc")
    host, port = daemon.tcp.rsplit(":", 1)
    s = msgpack_rpc.tcp_session(host, int(port))
    s.error_wrapper = lambda e: msgpack_rpc.ErrorResponse(e[1])  # pynvim.Nvim sets this on its session
    try:
        before = s.request("server.stats", {})  # the daemon is shared with other tests
        info = s.request("server.info", {})
        assert info["protocol"] == 1 and "problem.solve" in info["methods"]
        with pytest.raises(msgpack_rpc.ErrorResponse):
            s.request("no.such.method", {})
        V = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]]
        m = s.request("mesh.create", {"V": V, "F": [[0, 1, 2], [0, 2, 3]]})
        p = s.request("problem.create", {"mesh": m["mesh"], "variables": [{"name": "x", "dim": 3}]})
        s.request("problem.add_term", {"problem": p["problem"], "energy": "spring", "var": "x"})
        r = s.request("problem.solve", {"problem": p["problem"], "options": {"progress_every": 0}})
        assert r["reason"] == "gradient"
        stats = s.request("server.stats", {})
        assert stats["notifications_received"] >= 1  # nvim_set_client_info, before the first request
        assert stats["protocol_errors"] == before["protocol_errors"]
    finally:
        s.close()


def test_notifications_never_answered(daemon):
    """Notifications with a str, a bin, an unknown, a non-string and no method name, and a
    truncated one, are ignored: the next request's response is the first thing that comes back."""
    host, port = daemon.tcp.rsplit(":", 1)
    notes = [[2, "server.info", {}], [2, b"nvim_set_client_info", ["client", {}, "remote", {}, {}]],
             [2, "no.such.method", {}], [2, 7, {}], [2], [2, "server.stats", {}, "extra"]]
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        for n in notes:
            sock.sendall(msgpack.packb(n, use_bin_type=True))
        sock.sendall(msgpack.packb([0, 41, b"server.health", {}], use_bin_type=True))
        unpacker = msgpack.Unpacker(raw=False)
        while True:
            unpacker.feed(sock.recv(65536))
            msgs = list(unpacker)
            if msgs:
                break
        assert msgs[0][0] == 1 and msgs[0][1] == 41 and msgs[0][2] is None, msgs
        assert msgs[0][3]["ok"] is True
