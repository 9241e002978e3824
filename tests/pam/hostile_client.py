#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Misbehaving clients of sessmgrd's socket, run as an ordinary user by
test_hostile_clients.py. Usage: hostile_client.py SOCKET MODE; prints one JSON line."""

import json
import os
import socket
import struct
import sys
import time

import dbus
import dbus.connection


def authenticated_socket(path):
    """A raw connection past the D-Bus handshake, ready for hand-made messages."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(path)
    connection.sendall(b"\0AUTH EXTERNAL " + str(os.getuid()).encode().hex().encode() + b"\r\n")
    assert connection.recv(4096).startswith(b"OK"), "authentication failed"
    connection.sendall(b"BEGIN\r\n")
    return connection


def method_call_header(body_length, serial=1):
    """A little-endian method call to GetSession with a body of type 't'."""
    def field(code, signature, value):
        encoded = value.encode() + b"\0"
        data = struct.pack("<B", code) + bytes([1]) + signature.encode() + b"\0"
        data += b"\0" * (-len(data) % 4) + struct.pack("<I", len(encoded) - 1) + encoded
        return data
    fields = b""
    for code, signature, value in ((1, "o", "/org/sessmgr1"), (2, "s", "org.sessmgr.Manager1"),
                                   (3, "s", "GetSession"), (8, "g", "t")):
        fields += b"\0" * (-len(fields) % 8)
        if signature == "g":
            fields += struct.pack("<B", code) + b"\x01g\0" + struct.pack("<B", len(value)) + value.encode() + b"\0"
        else:
            fields += field(code, signature, value)
    header = b"l\x01\x00\x01" + struct.pack("<III", body_length, serial, len(fields)) + fields
    return header + b"\0" * (-len(header) % 8)


def idle(path, count):
    """Opens count connections and says how many the daemon keeps open."""
    connections = []
    for _ in range(count):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(path)
        connections.append(c)
    time.sleep(0.5)
    alive = 0
    for c in connections:
        c.setblocking(False)
        try:
            alive += c.recv(1) != b""
        except BlockingIOError:
            alive += 1          # nothing to read: still open
        except ConnectionResetError:
            pass
    return {"opened": count, "kept": alive}


def slow_drip(path, seconds):
    """Starts a message and sends it a byte at a time; reports when the daemon hung up."""
    connection = authenticated_socket(path)
    message = method_call_header(8) + struct.pack("<Q", 1)
    started = time.monotonic()
    for byte in message:
        try:
            connection.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            return {"closed_after": time.monotonic() - started}
        time.sleep(seconds / len(message))
    return {"closed_after": None}


def idle_after_auth(path, seconds):
    connection = authenticated_socket(path)
    connection.settimeout(seconds)
    started = time.monotonic()
    try:
        data = connection.recv(1)
    except socket.timeout:
        return {"closed_after": None}
    return {"closed_after": time.monotonic() - started if data == b"" else None}


def huge(path, megabytes):
    """A call whose argument is megabytes of bytes, where a uint64 belongs."""
    connection = dbus.connection.Connection(f"unix:path={path}")
    try:
        connection.call_blocking(None, "/org/sessmgr1", "org.sessmgr.Manager1", "GetSession", "ay",
                                 [dbus.ByteArray(b"x" * (megabytes << 20))], timeout=60)
    except dbus.exceptions.DBusException as error:
        return {"error": error.get_dbus_name()}
    return {"error": None}


def nested(path, depth):
    connection = dbus.connection.Connection(f"unix:path={path}")
    value = dbus.UInt64(1)
    for _ in range(depth):
        value = dbus.Struct((value,), variant_level=1)
    try:
        connection.call_blocking(None, "/org/sessmgr1", "org.sessmgr.Manager1", "GetSession", "v",
                                 [value], timeout=10)
    except dbus.exceptions.DBusException as error:
        return {"error": error.get_dbus_name()}
    return {"error": None}


def main():
    path, mode, number = sys.argv[1], sys.argv[2], float(sys.argv[3])
    result = {"idle": lambda: idle(path, int(number)), "slow-drip": lambda: slow_drip(path, number),
              "idle-after-auth": lambda: idle_after_auth(path, number), "huge": lambda: huge(path, int(number)),
              "nested": lambda: nested(path, int(number))}[mode]()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
