# SPDX-License-Identifier: LGPL-2.1-or-later
# fish completion for sessmgrctl: commands, options, and the caller's own session ids,
# read from sessmgrctl's own JSON as the bash completion reads them.

# Reads the command line before the cursor as sessmgrctl would: $argv[1] is what to
# print, "verb" (the first word that is neither an option nor an option's value),
# "operands" (the words after it), "socket" (the --socket arguments to pass on) or
# "every" (succeeds when --all or --others is given).
function __sessmgrctl_scan
    set -l what $argv[1]
    set -l tokens (commandline -opc)
    set -l verb
    set -l operands
    set -l socket
    set -l every 1
    set -l i 2
    while test $i -le (count $tokens)
        set -l token $tokens[$i]
        switch $token
            case --socket
                set i (math $i + 1)
                set socket --socket $tokens[$i]
            case '--socket=*'
                set socket $token
            case --user --since --limit --fleet-socket
                set i (math $i + 1)
            case --all --others
                set every 0
            case '-*'
            case '*'
                if test -z "$verb"
                    set verb $token
                else
                    set -a operands $token
                end
        end
        set i (math $i + 1)
    end
    switch $what
        case verb
            printf '%s\n' $verb
        case operands
            printf '%s\n' $operands
        case socket
            printf '%s\n' $socket
        case every
            return $every
    end
end

# Succeeds when the command is one of $argv ("" for none yet).
function __sessmgrctl_verb_is
    contains -- (__sessmgrctl_scan verb; or echo "") $argv
end

# Prints the ids of the caller's sessions, one a line. $argv[1]: "list" or "history";
# $argv[2]: "skip-current" leaves out the session in use. A record is everything up to
# its closing brace (records are flat), so this reads both pretty and short JSON; no jq
# needed. A daemon that does not answer must not hang the shell: at most 2 s.
function __sessmgrctl_session_ids
    timeout 2 sessmgrctl $argv[1] --json (__sessmgrctl_scan socket) 2>/dev/null </dev/null | awk -v skip=$argv[2] '
        BEGIN { RS = "}" }
        match($0, /(^|[^\\\\])"id"[[:space:]]*:[[:space:]]*[0-9]+/) {
            id = substr($0, RSTART, RLENGTH)
            sub(/.*:[[:space:]]*/, "", id)
            if (skip == "skip-current" && $0 ~ /"current"[[:space:]]*:[[:space:]]*true/)
                next
            print id
        }'
end

# show: one id, active or ended.
function __sessmgrctl_show_ids
    test -z "$(__sessmgrctl_scan operands)"; or return
    begin
        __sessmgrctl_session_ids list keep-current
        __sessmgrctl_session_ids history keep-current
    end | sort -nu
end

# logout: active sessions other than this one, each at most once.
function __sessmgrctl_logout_ids
    __sessmgrctl_scan every; and return
    set -l given (__sessmgrctl_scan operands)
    for id in (__sessmgrctl_session_ids list skip-current)
        contains -- $id $given; or echo $id
    end
end

complete -c sessmgrctl -f

# Options go anywhere, before the command too: there, every option is offered, since
# fish must know which of them take a value wherever they are.

complete -c sessmgrctl -n '__sessmgrctl_verb_is ""' -a list -d 'your active sessions (default)'
complete -c sessmgrctl -n '__sessmgrctl_verb_is ""' -a show -d 'every detail of one session'
complete -c sessmgrctl -n '__sessmgrctl_verb_is ""' -a history -d 'your ended sessions'
complete -c sessmgrctl -n '__sessmgrctl_verb_is ""' -a logout -d 'log out sessions'

# Fleet sessions are HOST:ID, from the fleet's database: not completed.
complete -c sessmgrctl -n '__sessmgrctl_verb_is show; and not __fish_seen_argument -l fleet' \
    -a '(__sessmgrctl_show_ids)' -d session
complete -c sessmgrctl -n '__sessmgrctl_verb_is logout; and not __fish_seen_argument -l fleet' \
    -a '(__sessmgrctl_logout_ids)' -d session

# --json=MODE; plain --json takes no value.
complete -c sessmgrctl -n '__sessmgrctl_verb_is "" list show history logout' -l json -a 'short pretty off' \
    -d 'JSON output, pretty on a terminal'
complete -c sessmgrctl -n '__sessmgrctl_verb_is "" list show history logout' -s j \
    -d 'JSON output, pretty on a terminal'
complete -c sessmgrctl -n '__sessmgrctl_verb_is "" list history logout' -l user -x -a '(__fish_complete_users)' \
    -d 'the sessions of another user (root)'
complete -c sessmgrctl -n '__sessmgrctl_verb_is "" list history logout' -l all -d 'every session'
complete -c sessmgrctl -n '__sessmgrctl_verb_is "" logout' -l others -d 'every session but this one'
complete -c sessmgrctl -n '__sessmgrctl_verb_is "" logout' -s y -l yes -d 'log out without asking'
complete -c sessmgrctl -n '__sessmgrctl_verb_is "" history' -l since -x -a 'today yesterday 1h 12h 1d 7d 30d' \
    -d 'ended at or after this time'
complete -c sessmgrctl -n '__sessmgrctl_verb_is "" history' -l limit -x -d 'at most this many sessions'
complete -c sessmgrctl -n '__sessmgrctl_verb_is "" list show history logout' -l fleet \
    -d 'every machine of the fleet'
complete -c sessmgrctl -l fleet-socket -r -F -d "the fleet agent's socket"
complete -c sessmgrctl -l socket -r -F -d "sessmgrd's socket"
complete -c sessmgrctl -n '__sessmgrctl_verb_is ""' -s h -l help -d 'show the help'
complete -c sessmgrctl -n '__sessmgrctl_verb_is ""' -l version -d 'show the version'
