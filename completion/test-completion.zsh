#!/usr/bin/zsh -f
# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests the zsh completion of sessmgrctl as zsh's own test suite tests completions
# (Test/comptest in zsh's sources): an interactive zsh on a pseudo-terminal (zpty) with
# compinit, a key that completes the line typed, and compadd recording the matches it
# is given, against a stand-in sessmgrctl that prints canned JSON.
# Usage: test-completion.zsh PATH-TO-_sessmgrctl PATH-TO-STAND-IN
emulate -L zsh
setopt no_unset pipe_fail
export LC_ALL=C

completion_file=${1:A}
stand_in=${2:A}
work=$(mktemp -d)
trap 'zpty -d completer 2>/dev/null; rm -rf $work' EXIT
mkdir $work/bin $work/functions
cp $stand_in $work/bin/sessmgrctl
chmod +x $work/bin/sessmgrctl
cp $completion_file $work/functions/_sessmgrctl

zmodload zsh/zpty || exit 1
# What the zsh under test runs first: our completion first in fpath, emacs keys, TAB
# bound to a widget that empties the match file, completes, clears the line and says it
# is done; and a compadd that writes down every match it is given.
cat >$work/setup.zsh <<'EOF'
bindkey -e
fpath=($WORK/functions $fpath)
autoload -Uz compinit && compinit -u -D
compadd() {
    local -a found
    # The forms that only ask (-O, -A, -D) are completion's own business.
    if (( ${@[(I)-[OAD]*]} )); then
        builtin compadd "$@"
        return
    fi
    builtin compadd -O found "$@"
    (( $#found )) && print -rl -- $found >>| $WORK/matches
    builtin compadd "$@"
}
test-complete() {
    : >| $WORK/matches
    zle complete-word
    BUFFER=
    zle -M "%%done%%"
}
zle -N test-complete
bindkey '^I' test-complete
print "%%ready%%"
EOF
zpty completer "env -i PATH=$work/bin:$PATH HOME=$work WORK=$work TERM=vt100 zsh -f -i"
zpty -w completer "source $work/setup.zsh"
zpty -r completer output '*%%ready%%*' || { print "the zsh under test did not start"; exit 1; }


# Completes a command line (the cursor at its end) and prints the sorted matches.
candidates() {
    local output
    zpty -w -n completer "$1"$'\t'
    zpty -r completer output '*%%done%%*' || return 1
    sort -u $work/matches | xargs
}

integer failures=0
expect() {
    local got
    got=$(candidates $1)
    if [[ $got != $2 ]]; then
        print -r -- "FAIL (zsh): '$1' gave '$got', expected '$2'"
        (( failures++ ))
    fi
}

expect "sessmgrctl " "history list logout show"
expect "sessmgrctl sh" "show"
expect "sessmgrctl --json " "history list logout show"
expect "sessmgrctl -j " "history list logout show"
expect "sessmgrctl --" "--all --fleet --fleet-socket --help --json --socket --user --version"
expect "sessmgrctl -" "--all --fleet --fleet-socket --help --json --socket --user --version -j"
expect "sessmgrctl history --" "--all --fleet --fleet-socket --json --limit --since --socket --user"
expect "sessmgrctl logout --" "--all --fleet --fleet-socket --json --others --socket --user --yes"
expect "sessmgrctl --since " "12h 1d 1h 30d 7d today yesterday"
expect "sessmgrctl --user roo" "root"
expect "sessmgrctl --limit " ""
expect "sessmgrctl list --json=" "off pretty short"
expect "sessmgrctl list --json=p" "pretty"
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
expect "sessmgrctl --socket=/tmp/other logout " "77"

if (( failures > 0 )); then
    print "$failures failed"
    exit 1
fi
print "ok: zsh completion"
