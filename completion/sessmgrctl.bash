# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for sessmgrctl: commands, options, and the caller's own session ids.
# Works with bash-completion (loaded on demand) and without it (source this file).
# The candidates are words without blanks, so COMPREPLY=($(compgen ...)) is safe here.
# shellcheck disable=SC2207

# Prints the ids of the caller's sessions, one a line. $1: "list" or "history";
# $2: "skip-current" leaves out the session in use. Further arguments (--socket PATH)
# go to sessmgrctl. A record is everything up to its closing brace (records are flat),
# so this reads both pretty and compact JSON; no jq needed. A daemon that does not
# answer must not hang the shell: a TAB waits at most 2 s.
_sessmgrctl_session_ids()
{
    local verb=$1 skip=$2
    shift 2
    timeout 2 sessmgrctl "$verb" --json "$@" 2>/dev/null </dev/null | awk -v skip="$skip" '
        BEGIN { RS = "}" }
        match($0, /(^|[^\\])"id"[[:space:]]*:[[:space:]]*[0-9]+/) {
            id = substr($0, RSTART, RLENGTH)
            sub(/.*:[[:space:]]*/, "", id)
            if (skip == "skip-current" && $0 ~ /"current"[[:space:]]*:[[:space:]]*true/)
                next
            print id
        }'
}

_sessmgrctl()
{
    local cur prev words cword split=false
    if declare -F _init_completion >/dev/null; then
        _init_completion -s || return
    else
        # Sourced without bash-completion: "--socket=PATH" is not understood then.
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
    fi

    # --json=MODE; plain --json takes no value. Without bash-completion, "=" is a word.
    if { $split && [[ $prev == --json ]]; } || [[ $prev == "=" && ${words[cword - 2]} == --json ]]; then
        COMPREPLY=($(compgen -W "short pretty off" -- "$cur"))
        return
    fi

    case $prev in
        --user)
            COMPREPLY=($(compgen -u -- "$cur"))
            return
            ;;
        --socket | --fleet-socket)
            if declare -F _filedir >/dev/null; then
                _filedir
            else
                local IFS=$'\n'
                COMPREPLY=($(compgen -f -- "$cur"))
                compopt -o filenames 2>/dev/null
            fi
            return
            ;;
        --since)
            COMPREPLY=($(compgen -W "today yesterday 1h 12h 1d 7d 30d" -- "$cur"))
            return
            ;;
        --limit)
            return
            ;;
    esac
    $split && return

    # The command is the first word that is neither an option nor an option's value.
    local verb="" i word
    local -a socket=() given=()
    local every=false fleet=false
    for ((i = 1; i < cword; i++)); do
        word=${words[i]}
        case $word in
            --socket)
                socket=(--socket "${words[i + 1]}")
                ((i++))
                ;;
            --socket=*) socket=("$word") ;;
            --user | --since | --limit | --fleet-socket) ((i++)) ;;
            --fleet) fleet=true ;;
            --all | --others) every=true ;;
            -*) ;;
            *)
                if [[ -z $verb ]]; then
                    verb=$word
                else
                    given+=("$word")
                fi
                ;;
        esac
    done

    local options
    case $verb in
        "" | list) options="--json -j --user --all --fleet" ;;
        show) options="--json -j --fleet" ;;
        history) options="--json -j --since --limit --user --all --fleet" ;;
        logout) options="--others --all --yes --user --json -j --fleet" ;;
        *) return ;;
    esac
    if [[ $cur == -* ]]; then
        [[ -z $verb ]] && options+=" --help --version"
        COMPREPLY=($(compgen -W "$options --socket --fleet-socket" -- "$cur"))
        return
    fi
    # Fleet sessions are HOST:ID, from the fleet's database: not completed.
    [[ -n $verb ]] && $fleet && return

    local ids
    case $verb in
        "")
            COMPREPLY=($(compgen -W "list show history logout" -- "$cur"))
            ;;
        show)
            # One id, active or ended.
            ((${#given[@]} == 0)) || return
            ids=$({
                _sessmgrctl_session_ids list keep-current "${socket[@]}"
                _sessmgrctl_session_ids history keep-current "${socket[@]}"
            } | sort -nu)
            COMPREPLY=($(compgen -W "$ids" -- "$cur"))
            ;;
        logout)
            # Active sessions other than this one, each at most once.
            $every && return
            ids=$(_sessmgrctl_session_ids list skip-current "${socket[@]}")
            for word in "${given[@]}"; do
                ids=$(grep -vxF -- "$word" <<<"$ids")
            done
            COMPREPLY=($(compgen -W "$ids" -- "$cur"))
            ;;
    esac
}

complete -F _sessmgrctl sessmgrctl
