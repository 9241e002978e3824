#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every MESSAGE_ID sessmgrd sends (sessmgrd/events.h) has an entry in the journal
# catalog, every entry is one it sends, and journalctl reads the file.
#   check-catalog.sh EVENTS_H CATALOG
set -eu
events=$1 catalog=$2
sent=$(sed -n 's/^#define EVENT_[A-Z_]* *"\([0-9a-f]\{32\}\)".*/\1/p' "$events" | sort)
listed=$(sed -n 's/^-- \([0-9a-f]\{32\}\)$/\1/p' "$catalog" | sort)
[ -n "$sent" ] || { echo "no MESSAGE_ID found in $events"; exit 1; }
if [ "$sent" != "$listed" ]; then
        echo "MESSAGE_IDs sent by sessmgrd:"; echo "$sent"
        echo "entries in $catalog:"; echo "$listed"
        exit 1
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/lib/systemd/catalog"
cp "$catalog" "$root/usr/lib/systemd/catalog/"
journalctl --root="$root" --update-catalog
for id in $sent; do
        journalctl --root="$root" --list-catalog "$id" | grep -q "^$id sessmgr: " ||
                { echo "journalctl does not list $id"; exit 1; }
done
echo "$(echo "$sent" | wc -l) message IDs, each with its catalog entry"
