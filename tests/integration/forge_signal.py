#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What any user can do on the system bus: find a process's connection by its PID
(ListNames + GetConnectionUnixProcessID, both open to everyone) and send it signals
addressed to it alone, claiming to be logind or the bus. Prints JSON: {"sender": our
unique name, "target": the target's}. Usage: forge_signal.py ADDRESS PID JSON_SIGNALS,
each signal [path, interface, member, signature, [arguments]]; an argument
{"big": N, "tag": T} is the string T followed by N letters, and "$self" our unique name."""

import json
import sys

import dbus
import dbus.bus
import dbus.lowlevel

BUS = ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus")


def call(connection, method, signature="", *arguments):
    return connection.call_blocking(*BUS, method, signature, arguments)


def expand(argument, connection):
    if argument == "$self":
        return connection.get_unique_name()
    if isinstance(argument, dict) and "big" in argument:
        return argument.get("tag", "") + "a" * argument["big"]
    if isinstance(argument, dict):
        return dbus.Dictionary({k: dbus.String(v) for k, v in argument.items()}, signature="sv")
    return argument


def main():
    address, pid, signals = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    connection = dbus.bus.BusConnection(address)
    target = None
    for name in call(connection, "ListNames"):
        if name.startswith(":"):
            try:
                if call(connection, "GetConnectionUnixProcessID", "s", name) == pid:
                    target = str(name)
                    break
            except dbus.DBusException:
                pass        # gone meanwhile
    if target is None:
        sys.exit(f"no connection of PID {pid} on the bus")

    for path, interface, member, signature, arguments in signals:
        message = dbus.lowlevel.SignalMessage(path, interface, member)
        message.set_destination(target)
        message.append(*[expand(a, connection) for a in arguments], signature=signature)
        connection.send_message(message)
    # The bus handles a connection's messages in order: once it answers this, every
    # signal above is on its way to the target, ahead of anything sent after.
    call(connection, "GetId")
    print(json.dumps({"sender": connection.get_unique_name(), "target": target}))


if __name__ == "__main__":
    main()
