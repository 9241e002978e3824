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


def method_call_header(body_length, serial=1, member="GetSession", signature="t"):
    """A little-endian method call to member with a body of the given signature."""
    def field(code, signature, value):
        encoded = value.encode() + b"\0"
        data = struct.pack("<B", code) + bytes([1]) + signature.encode() + b"\0"
        data += b"\0" * (-len(data) % 4) + struct.pack("<I", len(encoded) - 1) + encoded
        return data
    fields = b""
    for code, signature, value in ((1, "o", "/org/sessmgr1"), (2, "s", "org.sessmgr.Manager1"),
                                   (3, "s", member), (8, "g", signature)):
        fields += b"\0" * (-len(fields) % 8)
        if signature == "g":
            fields += struct.pack("<B", code) + b"\x01g\0" + struct.pack("<B", len(value)) + value.encode() + b"\0"
        else:
            fields += field(code, signature, value)
    header = b"l\x01\x00\x01" + struct.pack("<III", body_length, serial, len(fields)) + fields
    return header + b"\0" * (-len(header) % 8)


def idle(path, count):
    """Opens count connections and says how many the daemon keeps open."""
    return hold(path, count, 0.5)


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


def unread_replies(path, calls):
    """Pipelines calls ListSessions of its own and never reads a reply; sends until all
    went out or the daemon stopped taking them for 3 s, then holds the connection 3 s."""
    connection = authenticated_socket(path)
    connection.setblocking(False)
    call = list_call
    data, sent, serial = b"", 0, 0
    last_progress = time.monotonic()
    while sent < calls and time.monotonic() - last_progress < 3:
        while len(data) < 65536 and serial < calls:
            serial += 1
            data += call(serial)
        try:
            written = connection.send(data)
        except BlockingIOError:
            time.sleep(0.01)
            continue
        except (BrokenPipeError, ConnectionResetError):
            break
        data = data[written:]
        sent = serial - len(data) // len(call(1))
        last_progress = time.monotonic()
    time.sleep(3)
    return {"sent": sent}


def message_length(data):
    """Length of the whole D-Bus message at the start of data, None while its fixed
    header is incomplete."""
    if len(data) < 16:
        return None
    order = "<" if data[0:1] == b"l" else ">"
    body, fields = struct.unpack(order + "I4xI", data[4:16])
    return 16 + fields + (-fields % 8) + body


def list_call(serial):
    return method_call_header(4, serial, "ListSessions", "u") + struct.pack("<I", os.getuid())


def pipelined(path, calls):
    """Sends calls ListSessions at once, then reads; counts the method returns."""
    connection = authenticated_socket(path)
    connection.sendall(b"".join(list_call(serial) for serial in range(1, calls + 1)))
    connection.settimeout(20)
    data, returns = b"", 0
    while returns < calls:
        length = message_length(data)
        if length is None or len(data) < length:
            chunk = connection.recv(65536)
            if not chunk:
                break
            data += chunk
            continue
        returns += data[1] == 2
        data = data[length:]
    return {"returns": returns}


def list_flood(path, seconds, connections=16):
    """connections connections, each with one ListSessions in flight at all times."""
    import selectors
    selector = selectors.DefaultSelector()
    buffers, serials, answered = {}, {}, 0
    for _ in range(connections):
        c = authenticated_socket(path)
        serials[c] = 1
        buffers[c] = b""
        c.sendall(list_call(1))
        selector.register(c, selectors.EVENT_READ)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            c = key.fileobj
            chunk = c.recv(65536)
            if not chunk:
                return {"answered": answered, "error": "closed"}
            buffers[c] += chunk
            length = message_length(buffers[c])
            while length is not None and len(buffers[c]) >= length:
                buffers[c] = buffers[c][length:]
                answered += 1
                serials[c] += 1
                c.sendall(list_call(serials[c]))
                length = message_length(buffers[c])
    return {"answered": answered}


def hold(path, count, seconds=8):
    """Opens count connections, keeps them for seconds; says how many were accepted
    and kept (the daemon closes the ones it refuses)."""
    connections = []
    for _ in range(count):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            c.connect(path)
        except OSError:
            break
        connections.append(c)
    time.sleep(seconds)
    kept = 0
    for c in connections:
        c.setblocking(False)
        try:
            kept += c.recv(1) != b""
        except BlockingIOError:
            kept += 1
        except ConnectionResetError:
            pass
    return {"opened": len(connections), "kept": kept}


def main():
    path, mode, number = sys.argv[1], sys.argv[2], float(sys.argv[3])
    result = {"idle": lambda: idle(path, int(number)), "slow-drip": lambda: slow_drip(path, number),
              "idle-after-auth": lambda: idle_after_auth(path, number), "huge": lambda: huge(path, int(number)),
              "nested": lambda: nested(path, int(number)),
              "unread-replies": lambda: unread_replies(path, int(number)),
              "pipelined": lambda: pipelined(path, int(number)),
              "list-flood": lambda: list_flood(path, number),
              "hold": lambda: hold(path, int(number))}[mode]()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
