#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Calls the fleet agent's socket directly, as any program of the caller's could, without
sessmgrctl; prints {"reply": [...]} or {"error": name, "message": text}. Also floods it:
"hold COUNT SECONDS" opens COUNT connections, holds them, and says how many the agent kept.
Usage: fleet_call.py SOCKET METHOD SIGNATURE JSON_ARGUMENTS | fleet_call.py SOCKET hold N S"""

import json
import socket
import sys
import time

import dbus
import dbus.connection

sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__file__), "..", "integration"))
from raw_call import plain  # noqa: E402


def hold(path, count, seconds):
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
        except OSError:
            pass
    return {"opened": len(connections), "kept": kept}


def main():
    path, method = sys.argv[1], sys.argv[2]
    if method == "hold":
        print(json.dumps(hold(path, int(sys.argv[3]), float(sys.argv[4]))))
        return
    signature, arguments = sys.argv[3], json.loads(sys.argv[4])
    if method == "RequestLogout":
        arguments[0] = dbus.Array([dbus.Struct((host, dbus.UInt64(i))) for host, i in arguments[0]], signature="(st)")
    connection = dbus.connection.Connection(f"unix:path={path}")
    try:
        reply = connection.call_blocking(None, "/org/sessmgr1/fleet", "org.sessmgr.Fleet1", method, signature,
                                         arguments, timeout=60)
        print(json.dumps({"reply": plain(reply if isinstance(reply, tuple) else (reply,))}))
    except dbus.exceptions.DBusException as error:
        print(json.dumps({"error": error.get_dbus_name(), "message": error.get_dbus_message()}))


if __name__ == "__main__":
    main()
