/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "logout.h"
#include "protocol.h"
#include "show.h"
#include "time-format.h"

#define EXIT_USAGE 2

typedef struct Arguments {
        const char *socket_path;
        const char *user;
        bool all;               /* list: every user's sessions; logout: every session */
        bool others;
        bool assume_yes;
        bool json;
        int64_t since_usec;     /* history */
        bool since_given;
        uint32_t limit;         /* history */
        bool limit_given;
} Arguments;

static void help(void) {
        printf("Usage: sessmgrctl [OPTIONS] [COMMAND]\n"
               "\n"
               "Lists your login sessions on this machine and logs them out.\n"
               "\n"
               "Commands:\n"
               "  list              your active sessions, the current one marked (default)\n"
               "  show ID           every detail of one session\n"
               "  logout ID...      log out these sessions (not the one you are using)\n"
               "  logout --others   log out all your sessions but this one\n"
               "  logout --all      log out all your sessions, this one last\n"
               "  history           your ended sessions, newest first\n"
               "\n"
               "Options:\n"
               "  --json            machine-readable output (fields in sessmgrctl(1))\n"
               "  -y, --yes         log out without asking\n"
               "  --since TIME      history: ended at or after TIME (2026-11-28, today, 12h, 7d)\n"
               "  --limit N         history: at most N sessions (default 50, 0: up to 10000)\n"
               "  --user NAME       (root) the sessions of another user\n"
               "  --all             (root, with list and history) the sessions of every user\n"
               "  --socket PATH     sessmgrd's socket (default " SESSMGR_SOCKET_PATH ")\n"
               "  -h, --help        show this help\n"
               "  --version         show the version\n"
               "\n"
               "Exit status: 0 success, 1 failure, 2 usage error. See sessmgrctl(1).\n");
}

_printf_(1, 2)
static int usage_error(const char *format, ...) {
        va_list ap;

        fputs("sessmgrctl: ", stderr);
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputs("\nTry 'sessmgrctl --help'.\n", stderr);
        return -EINVAL;
}

static int parse_limit(const char *text, uint32_t *ret) {
        unsigned long value;
        char *end;

        if (*text < '0' || *text > '9')
                return -EINVAL;
        errno = 0;
        value = strtoul(text, &end, 10);
        if (errno != 0 || *end != '\0' || value > 10000)
                return -EINVAL;
        *ret = (uint32_t) value;
        return 0;
}

/* Returns 1 to go on, 0 to exit successfully, negative on a usage error. */
static int parse_arguments(int argc, char *argv[], Arguments *arguments) {
        enum { OPTION_JSON = 0x100, OPTION_USER, OPTION_ALL, OPTION_OTHERS, OPTION_SINCE, OPTION_LIMIT,
               OPTION_SOCKET, OPTION_VERSION };
        static const struct option options[] = {
                { "json",    no_argument,       NULL, OPTION_JSON    },
                { "user",    required_argument, NULL, OPTION_USER    },
                { "all",     no_argument,       NULL, OPTION_ALL     },
                { "others",  no_argument,       NULL, OPTION_OTHERS  },
                { "yes",     no_argument,       NULL, 'y'            },
                { "since",   required_argument, NULL, OPTION_SINCE   },
                { "limit",   required_argument, NULL, OPTION_LIMIT   },
                { "socket",  required_argument, NULL, OPTION_SOCKET  },
                { "help",    no_argument,       NULL, 'h'            },
                { "version", no_argument,       NULL, OPTION_VERSION },
                {}
        };
        int c;

        opterr = 0;
        /* Options may come before or after the command ("sessmgrctl list --json"). */
        while ((c = getopt_long(argc, argv, ":hy", options, NULL)) >= 0)
                switch (c) {
                case OPTION_JSON:    arguments->json = true; break;
                case OPTION_USER:    arguments->user = optarg; break;
                case OPTION_ALL:     arguments->all = true; break;
                case OPTION_OTHERS:  arguments->others = true; break;
                case 'y':            arguments->assume_yes = true; break;
                case OPTION_SINCE:
                        if (parse_timestamp(optarg, now_usec(CLOCK_REALTIME), &arguments->since_usec) < 0)
                                return usage_error("--since: '%s' is not a time (try 2026-11-28, "
                                                   "\"2026-11-28 06:52\", today, yesterday, 12h, 7d).", optarg);
                        arguments->since_given = true;
                        break;
                case OPTION_LIMIT:
                        if (parse_limit(optarg, &arguments->limit) < 0)
                                return usage_error("--limit: '%s' is not a number from 0 to 10000.", optarg);
                        arguments->limit_given = true;
                        break;
                case OPTION_SOCKET:  arguments->socket_path = optarg; break;
                case 'h':            help(); return 0;
                case OPTION_VERSION: printf("sessmgrctl %s\n", PACKAGE_VERSION); return 0;
                case ':':            return usage_error("option '%s' needs a value.", argv[optind - 1]);
                default:             return usage_error("unknown option '%s'.", argv[optind - 1]);
                }
        return 1;
}

static int resolve_uid(const Arguments *arguments, uint32_t *ret) {
        struct passwd *entry;
        char *end;
        unsigned long number;

        if (arguments->all) {
                *ret = SESSMGR_UID_ALL;
                return 0;
        }
        if (!arguments->user) {
                *ret = (uint32_t) getuid();
                return 0;
        }

        entry = getpwnam(arguments->user);
        if (entry) {
                *ret = entry->pw_uid;
                return 0;
        }
        errno = 0;
        number = strtoul(arguments->user, &end, 10);
        if (*arguments->user && *end == '\0' && errno == 0 && number < SESSMGR_UID_ALL) {
                *ret = (uint32_t) number;
                return 0;
        }
        return log_error_errno(ESRCH, "No such user: %s", arguments->user);
}

static int parse_session_id(const char *text, uint64_t *ret) {
        char *end;

        errno = 0;
        if (*text < '0' || *text > '9')
                return -EINVAL;
        *ret = strtoull(text, &end, 10);
        return errno != 0 || *end != '\0' ? -EINVAL : 0;
}

static int verb_list(sd_bus *bus, const Arguments *arguments) {
        uint32_t uid = 0;
        int r;

        r = resolve_uid(arguments, &uid);
        return r < 0 ? r : show_sessions(bus, uid, arguments->json);
}

static int verb_history(sd_bus *bus, const Arguments *arguments) {
        uint32_t uid = 0;
        int r;

        r = resolve_uid(arguments, &uid);
        return r < 0 ? r : show_history(bus, uid, arguments->since_usec, arguments->limit, arguments->json);
}

static int verb_logout(sd_bus *bus, const Arguments *arguments, const uint64_t *ids, size_t id_count) {
        LogoutRequest request = {
                .mode = arguments->all ? LOGOUT_ALL : arguments->others ? LOGOUT_OTHERS : LOGOUT_NAMED,
                .ids = ids,
                .id_count = id_count,
                .assume_yes = arguments->assume_yes,
        };
        Arguments whose = *arguments;
        int r;

        /* --all means "all of the user's sessions" here, not "all users". */
        whose.all = false;
        r = resolve_uid(&whose, &request.uid);
        if (r < 0)
                return r;
        /* sessmgrd and logind refuse it anyway; say it in logout's own words. */
        if (getuid() != 0 && request.uid != getuid())
                return log_error_errno(EPERM, "Only root may log out another user's sessions.");
        return logout_sessions(bus, &request);
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        Arguments arguments = { .socket_path = SESSMGR_SOCKET_PATH, .limit = 50 };
        const char *verb;
        _cleanup_(freep) uint64_t *ids = NULL;
        char **rest;
        int rest_count, r;
        uint64_t id = 0;

        setlocale(LC_ALL, "");
        log_setup("sessmgrctl");

        r = parse_arguments(argc, argv, &arguments);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;

        verb = optind < argc ? argv[optind] : "list";
        rest = argv + optind + 1;
        rest_count = optind < argc ? argc - optind - 1 : 0;

        if (strcmp(verb, "list") == 0) {
                if (rest_count > 0)
                        return usage_error("list takes no arguments, got '%s'.", rest[0]), EXIT_USAGE;
                if (arguments.user && arguments.all)
                        return usage_error("--user and --all exclude each other with list."), EXIT_USAGE;
        } else if (strcmp(verb, "show") == 0) {
                if (rest_count != 1)
                        return usage_error("show takes exactly one session id."), EXIT_USAGE;
                if (parse_session_id(rest[0], &id) < 0)
                        return usage_error("'%s' is not a session id.", rest[0]), EXIT_USAGE;
                if (arguments.user || arguments.all)
                        return usage_error("--user and --all do not apply to show."), EXIT_USAGE;
        } else if (strcmp(verb, "history") == 0) {
                if (rest_count > 0)
                        return usage_error("history takes no arguments, got '%s'.", rest[0]), EXIT_USAGE;
                if (arguments.user && arguments.all)
                        return usage_error("--user and --all exclude each other with history."), EXIT_USAGE;
        } else if (strcmp(verb, "logout") == 0) {
                if (arguments.all + arguments.others + (rest_count > 0) != 1)
                        return usage_error("logout takes session ids, or --others, or --all."), EXIT_USAGE;
                if (arguments.user && rest_count > 0)
                        return usage_error("--user goes with --others or --all, not with session ids."), EXIT_USAGE;
                ids = calloc(rest_count ?: 1, sizeof(uint64_t));
                if (!ids)
                        return log_error_errno(ENOMEM, "Out of memory."), EXIT_FAILURE;
                for (int i = 0; i < rest_count; i++)
                        if (parse_session_id(rest[i], &ids[i]) < 0)
                                return usage_error("'%s' is not a session id.", rest[i]), EXIT_USAGE;
        } else
                return usage_error("unknown command '%s'.", verb), EXIT_USAGE;
        if (arguments.others && strcmp(verb, "logout") != 0)
                return usage_error("--others applies to logout only."), EXIT_USAGE;
        if ((arguments.since_given || arguments.limit_given) && strcmp(verb, "history") != 0)
                return usage_error("--since and --limit apply to history only."), EXIT_USAGE;
        if (arguments.assume_yes && strcmp(verb, "logout") != 0)
                return usage_error("--yes applies to logout only."), EXIT_USAGE;
        if (arguments.json && strcmp(verb, "logout") == 0)
                return usage_error("--json does not apply to logout."), EXIT_USAGE;

        r = daemon_connect(arguments.socket_path, &bus);
        if (r < 0)
                return EXIT_FAILURE;

        if (strcmp(verb, "list") == 0)
                r = verb_list(bus, &arguments);
        else if (strcmp(verb, "show") == 0)
                r = show_session(bus, id, arguments.json);
        else if (strcmp(verb, "history") == 0)
                r = verb_history(bus, &arguments);
        else
                r = verb_logout(bus, &arguments, ids, (size_t) rest_count);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
