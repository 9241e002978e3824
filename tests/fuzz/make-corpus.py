#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpus of fuzz-methods: each seed is one real method call as a client
puts it on the wire after the handshake (made by dbus-python talking to a listener here
that records the bytes), after a first byte choosing the caller (1: root, 0: a user).
Usage: make-corpus.py DIRECTORY"""

import hashlib
import os
import socket
import sys
import tempfile
import threading

import dbus
import dbus.connection

CALLS = [
    ("OpenSession", "a{sv}", [{"uid": dbus.UInt32(1000, variant_level=1), "user": dbus.String("alice", variant_level=1),
                               "service": dbus.String("sshd", variant_level=1), "tty": dbus.String("ssh", variant_level=1),
                               "remote_address": dbus.String("203.0.113.7", variant_level=1),
                               "remote_port": dbus.UInt16(50022, variant_level=1),
                               "logind_session": dbus.String("c1", variant_level=1),
                               "login_time_usec": dbus.Int64(1795848751000000, variant_level=1)}]),
    ("OpenSession", "a{sv}", [{"uid": dbus.String("0", variant_level=1)}]),
    ("CloseSession", "ts", [1, "logout"]),
    ("ListSessions", "u", [1000]),
    ("ListSessions", "u", [0xFFFFFFFF]),
    ("ListHistory", "uxu", [1000, 0, 10]),
    ("GetSession", "t", [1]),
    ("AnnounceLogout", "t", [1]),
    ("Introspect", "", []),
]


def capture(method, signature, arguments):
    """The bytes dbus-python sends for one call, past BEGIN."""
    directory = tempfile.mkdtemp()
    path = os.path.join(directory, "socket")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(1)
    captured = bytearray()

    def serve():
        connection, _ = listener.accept()
        buffer = b""
        while b"BEGIN\r\n" not in buffer:
            chunk = connection.recv(4096)
            buffer += chunk
            if b"AUTH" in chunk:
                connection.sendall(b"OK 0123456789abcdef0123456789abcdef\r\n")
            elif b"NEGOTIATE_UNIX_FD" in chunk:
                connection.sendall(b"ERROR\r\n")
        captured.extend(buffer.split(b"BEGIN\r\n", 1)[1])
        connection.settimeout(0.5)
        try:
            while True:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                captured.extend(chunk)
        except socket.timeout:
            pass
        connection.close()

    thread = threading.Thread(target=serve)
    thread.start()
    client = dbus.connection.Connection(f"unix:path={path}")
    interface = "org.freedesktop.DBus.Introspectable" if method == "Introspect" else "org.sessmgr.Manager1"
    try:
        client.call_blocking(None, "/org/sessmgr1", interface, method, signature, arguments, timeout=1)
    except dbus.exceptions.DBusException:
        pass
    thread.join()
    os.unlink(path)
    os.rmdir(directory)
    return bytes(captured)


def main():
    directory = sys.argv[1]
    os.makedirs(directory, exist_ok=True)
    for method, signature, arguments in CALLS:
        message = capture(method, signature, arguments)
        for caller in (b"\x01", b"\x00"):
            seed = caller + message
            with open(os.path.join(directory, hashlib.sha1(seed).hexdigest()), "wb") as f:
                f.write(seed)


if __name__ == "__main__":
    main()
