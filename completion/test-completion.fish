# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests the fish completion of sessmgrctl with fish's own "complete -C", which prints
# the candidates for a command line, against a stand-in sessmgrctl that prints canned
# JSON. Usage: fish --no-config test-completion.fish PATH-TO-COMPLETION-FILE PATH-TO-STAND-IN
set -l completion_file (realpath $argv[1])
set -g work (mktemp -d)
function __cleanup --on-event fish_exit
    rm -rf $work
end
cp $argv[2] $work/sessmgrctl
chmod +x $work/sessmgrctl
set -gx PATH $work $PATH
set -gx LC_ALL C
source $completion_file

set -g failures 0
# The sorted candidates for a command line, the cursor at its end.
function expect
    set -l got (complete -C $argv[1] | cut -f1 | sort -u | string join ' ')
    if test "$got" != "$argv[2]"
        echo "FAIL (fish): '$argv[1]' gave '$got', expected '$argv[2]'"
        set failures (math $failures + 1)
    end
end

expect "sessmgrctl " "history list logout show"
expect "sessmgrctl sh" "show"
expect "sessmgrctl --json " "history list logout show"
expect "sessmgrctl -j " "history list logout show"
# Before the command every option may come; fish offers --json= for the modes.
expect "sessmgrctl --" "--all --fleet --fleet-socket --help --json --json= --limit --others --since --socket --user --version --yes"
expect "sessmgrctl list --" "--all --fleet --fleet-socket --json --json= --socket --user"
expect "sessmgrctl show --" "--fleet --fleet-socket --json --json= --socket"
expect "sessmgrctl history --" "--all --fleet --fleet-socket --json --json= --limit --since --socket --user"
expect "sessmgrctl logout --" "--all --fleet --fleet-socket --json --json= --others --socket --user --yes"
expect "sessmgrctl --since " "12h 1d 1h 30d 7d today yesterday"
expect "sessmgrctl history --since " "12h 1d 1h 30d 7d today yesterday"
expect "sessmgrctl --user roo" "root"
expect "sessmgrctl list --json=" "--json=off --json=pretty --json=short"
expect "sessmgrctl list --json=p" "--json=pretty"
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

if test $failures -gt 0
    echo "$failures failed"
    exit 1
end
echo "ok: fish completion"
