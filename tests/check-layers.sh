#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# sessmgrd's write discipline, as structure: only the sessions layer (sessions.c) opens
# transactions, writes to the store and queues replies and journal events behind a commit
# (batch.c); the store itself (store*.c) and the batch implement them. Any other file of
# sessmgrd that calls batch_*() or a store_*() write fails this test.
set -eu

source_dir=${1:?usage: check-layers.sh SESSMGRD_SOURCE_DIR}

# The write functions of store.h, and everything batch.h declares.
writes='\<(batch_[a-z_]+|store_(add|replace|end|set|update|delete|logind)_[a-z_]+|store_(close_previous_boots|begin|commit|rollback))[[:space:]]*\('

status=0
for file in "$source_dir"/*.c; do
        case "${file##*/}" in
        sessions.c|store*.c|batch.c) continue ;;
        esac
        # Comment lines may name these functions; calls are what counts.
        hits=$(grep -nE "$writes" "$file" | grep -vE '^[0-9]+:[[:space:]]*(/\*|\*)' || true)
        if [ -n "$hits" ]; then
                echo "${file##*/} writes around the sessions layer:" >&2
                echo "$hits" | sed 's/^/  /' >&2
                status=1
        fi
done
exit $status
