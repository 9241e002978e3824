#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Calls one sessmgrd method directly over its socket with dbus-python, as an arbitrary
program could, and prints the answer as JSON: {"reply": [...]} or {"error": name,
"message": text}. Usage: raw_call.py SOCKET METHOD SIGNATURE JSON_ARGUMENTS"""

import json
import sys

import dbus
import dbus.connection


def plain(value):
    """dbus-python types → JSON-friendly Python values."""
    if isinstance(value, dbus.Dictionary):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (dbus.Array, dbus.Struct, list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (dbus.String, dbus.ObjectPath, dbus.Signature)):
        return str(value)
    if isinstance(value, dbus.Boolean):
        return bool(value)
    if isinstance(value, (dbus.Byte, dbus.Int16, dbus.UInt16, dbus.Int32, dbus.UInt32, dbus.Int64, dbus.UInt64)):
        return int(value)
    return value


VARIANT_TYPES = {"s": dbus.String, "u": dbus.UInt32, "t": dbus.UInt64, "x": dbus.Int64,
                 "q": dbus.UInt16, "i": dbus.Int32, "b": dbus.Boolean}


def typed(argument):
    """A dict is an a{sv}: each value is given as [signature, value] so that the test
    chooses the exact D-Bus type, wrong ones included."""
    if isinstance(argument, dict):
        return dbus.Dictionary({key: VARIANT_TYPES[kind](value, variant_level=1)
                                for key, (kind, value) in argument.items()}, signature="sv")
    return argument


# The fields of a record struct in ListSessions and ListHistory answers, in order
# (SESSION_RECORD_STRUCT in common/record.h; sessmgrd(8), INTERFACE).
RECORD_FIELDS = ("id", "logind_session", "boot_id", "uid", "user", "service", "tty", "seat", "vt", "remote_host",
                 "remote_address", "remote_port", "leader_pid", "login_time_usec", "last_active_usec", "state",
                 "end_time_usec", "end_reason", "origin", "ttys", "last_active_source", "auth_method", "auth_key",
                 "display", "desktop", "parent_id")
ALWAYS_SENT = ("uid", "vt", "leader_pid")


def record_as_dict(values):
    """A record struct as the dictionary GetSession answers: unknown texts and zero numbers
    left out (uid, vt and leader_pid always there)."""
    assert len(values) == len(RECORD_FIELDS), f"a record struct has {len(values)} fields"
    return {key: value for key, value in zip(RECORD_FIELDS, values) if value not in ("", 0) or key in ALWAYS_SENT}


def main():
    socket_path, method, signature, arguments = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    connection = dbus.connection.Connection(f"unix:path={socket_path}")
    try:
        reply = connection.call_blocking(None, "/org/sessmgr1", "org.sessmgr.Manager1", method,
                                         signature, [typed(a) for a in arguments], timeout=10)
        if not isinstance(reply, tuple):
            reply = () if reply is None else (reply,)
        reply = plain(reply)
        if method in ("ListSessions", "ListHistory"):
            reply = [[record_as_dict(record) for record in reply[0]]]
        print(json.dumps({"reply": reply}))
    except dbus.exceptions.DBusException as error:
        print(json.dumps({"error": error.get_dbus_name(), "message": error.get_dbus_message()}))


if __name__ == "__main__":
    main()
