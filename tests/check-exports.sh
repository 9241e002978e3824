#!/bin/sh
# The PAM module lives inside sshd and login: it must export pam_sm_* and nothing else.
set -eu
exported=$(nm -D --defined-only "$1" | awk '{ print $3 }' | sort)
expected=$(printf 'pam_sm_close_session\npam_sm_open_session\n')
if [ "$exported" != "$expected" ]; then
        echo "unexpected exports from $1:" >&2
        echo "$exported" >&2
        exit 1
fi
echo "ok: $1 exports only: $(echo $exported)"
