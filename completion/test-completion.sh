#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests the bash completion of sessmgrctl against a stand-in sessmgrctl that prints
# canned JSON, once as plain bash and once with bash-completion loaded (if installed).
# Usage: test-completion.sh PATH-TO-COMPLETION-FILE PATH-TO-STAND-IN
set -u
export LC_ALL=C
completion_file=$(realpath "$1")
fake_bin=$(mktemp -d)
trap 'rm -rf "$fake_bin"' EXIT

cp "$2" "$fake_bin/sessmgrctl"
chmod +x "$fake_bin/sessmgrctl"
PATH=$fake_bin:$PATH

failures=0
mode=plain

# Completes a command line (the cursor at its end) and prints the sorted candidates.
# Words are split at blanks and, as bash does, around "=".
candidates() {
    local line=$1
    COMP_LINE=$line
    COMP_POINT=${#line}
    read -ra COMP_WORDS <<<"${line//=/ = }"
    [[ $line == *" " || $line == *"=" ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _sessmgrctl sessmgrctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf '%s\n' "${COMPREPLY[@]}" | sort | xargs
}

expect() {
    local line=$1 expected=$2 got
    got=$(candidates "$line")
    if [[ $got != "$expected" ]]; then
        echo "FAIL ($mode): '$line' gave '$got', expected '$expected'"
        failures=$((failures + 1))
    fi
}

run_cases() {
    expect "sessmgrctl " "history list logout show"
    expect "sessmgrctl sh" "show"
    expect "sessmgrctl --json " "history list logout show"
    expect "sessmgrctl --" "--all --fleet --fleet-socket --help --json --socket --user --version"
    expect "sessmgrctl -" "--all --fleet --fleet-socket --help --json --socket --user --version -j"
    expect "sessmgrctl history --" "--all --fleet --fleet-socket --json --limit --since --socket --user"
    expect "sessmgrctl logout --" "--all --fleet --fleet-socket --json --others --socket --user --yes"
    expect "sessmgrctl list --json=" "off pretty short"
    expect "sessmgrctl list --json=p" "pretty"
    expect "sessmgrctl list --json " ""
    expect "sessmgrctl -j " "history list logout show"
    expect "sessmgrctl --since " "12h 1d 1h 30d 7d today yesterday"
    # show: active and ended sessions; nested keys and strings do not count.
    expect "sessmgrctl show " "12 14 3 4"
    expect "sessmgrctl --json show 1" "12 14"
    expect "sessmgrctl show 12 " ""
    # logout: active sessions but the current one, each once.
    expect "sessmgrctl logout " "14"
    expect "sessmgrctl logout 14 " ""
    expect "sessmgrctl logout --others " ""
    expect "sessmgrctl list " ""
    # The ids come from the daemon the command line names.
    expect "sessmgrctl --socket /tmp/other show " "77 78"
}

# shellcheck source=/dev/null
source "$completion_file"
run_cases

if [[ -r /usr/share/bash-completion/bash_completion ]]; then
    mode=bash-completion
    # shellcheck source=/dev/null
    source /usr/share/bash-completion/bash_completion
    # shellcheck source=/dev/null
    source "$completion_file"
    run_cases
    expect "sessmgrctl --socket=/tmp/other logout " "77"
fi

if ((failures > 0)); then
    echo "$failures failed"
    exit 1
fi
echo "ok: bash completion ($mode)"
