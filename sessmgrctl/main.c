/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "fleet.h"
#include "log.h"
#include "parse-util.h"
#include "logout.h"
#include "protocol.h"
#include "show.h"
#include "time-format.h"

#define EXIT_USAGE 2

/* The options that only some commands take; each verb says which of them it accepts. */
typedef enum OptionGroup {
        GROUP_WHOSE   = 1 << 0,         /* --user, --all */
        GROUP_OTHERS  = 1 << 1,
        GROUP_HISTORY = 1 << 2,         /* --since, --limit */
        GROUP_YES     = 1 << 3,
        GROUP_JSON    = 1 << 4,
        GROUP_FLEET   = 1 << 5,         /* --fleet, --fleet-socket */
} OptionGroup;

/* In the order they are checked; what a refusal calls them. */
static const struct {
        OptionGroup group;
        const char *names;
        bool plural;
} option_groups[] = {
        { GROUP_WHOSE,   "--user and --all",    true  },
        { GROUP_OTHERS,  "--others",            false },
        { GROUP_HISTORY, "--since and --limit", true  },
        { GROUP_YES,     "--yes",               false },
        { GROUP_JSON,    "--json",              false },
        { GROUP_FLEET,   "--fleet",             false },
};

typedef struct Arguments {
        const char *socket_path;
        const char *fleet_socket_path;
        bool fleet;             /* every machine of the fleet, through the fleet agent */
        char **fleet_ids;       /* show, logout --fleet: HOST:ID each */
        const char *user;
        bool all;               /* list: every user's sessions; logout: every session */
        bool others;
        bool assume_yes;
        JsonMode json;
        int64_t since_usec;     /* history */
        uint32_t limit;         /* history */
        OptionGroup given;      /* the groups of the options on the command line */
        uint64_t *ids;          /* show, logout: the session ids given */
        size_t id_count;
} Arguments;

typedef struct Verb {
        const char *name;
        unsigned min_args, max_args;
        const char *args_text;          /* "show takes <args_text>.", when max_args > 0 */
        OptionGroup options;            /* the option groups it accepts */
        bool is_default;                /* run when no command is given */
        /* Checks what only this verb cares about: a usage error (exit 2) when negative. */
        int (*check)(const struct Verb *verb, Arguments *arguments, char **args, unsigned n_args);
        /* Runs it: a failure (exit 1) when negative. */
        int (*run)(sd_bus *bus, const Arguments *arguments);
} Verb;

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
               "With --fleet, on every machine of the fleet (sessions named HOST:ID):\n"
               "  list --fleet, show --fleet HOST:ID, history --fleet,\n"
               "  logout --fleet HOST:ID... | --others | --all\n"
               "\n"
               "Options:\n"
               "  --json=MODE       machine-readable output: short, pretty or off\n"
               "                    (fields in sessmgrctl(1))\n"
               "  -j, --json        JSON, pretty on a terminal and short otherwise\n"
               "  -y, --yes         log out without asking\n"
               "  --since TIME      history: ended at or after TIME (2026-11-28, today, 12h, 7d)\n"
               "  --limit N         history: at most N sessions (default 50, 0: up to 10000)\n"
               "  --user NAME       (root) the sessions of another user\n"
               "  --all             (root, with list and history) the sessions of every user\n"
               "  --fleet           every machine of the fleet, through the fleet agent\n"
               "  --fleet-socket PATH\n"
               "                    the fleet agent's socket (default " FLEET_SOCKET_PATH ")\n"
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
        unsigned long long value;

        if (parse_unsigned(text, 0, 10000, &value) < 0)
                return -EINVAL;
        *ret = (uint32_t) value;
        return 0;
}

static const char *const json_mode_names[] = {
        [JSON_OFF]    = "off",
        [JSON_SHORT]  = "short",
        [JSON_PRETTY] = "pretty",
};

static int json_mode_from_name(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(json_mode_names); i++)
                if (strcmp(json_mode_names[i], name) == 0)
                        return (int) i;
        return -EINVAL;
}

/* --json=MODE as systemd's tools take it, "help" listing the modes. Plain --json, as
 * before there were modes, is -j: pretty for a person at a terminal, short for a program.
 * next: the argument after it. Returns 1 to go on, 0 to exit successfully, negative on a
 * usage error. */
static int parse_json_mode(const char *text, const char *next, JsonMode *ret) {
        int mode;

        if (!text) {
                /* Else "list --json short" fails with "list takes no arguments". */
                if (next && json_mode_from_name(next) >= 0)
                        return usage_error("the JSON mode goes after '=': --json=%s.", next);
                *ret = isatty(STDOUT_FILENO) ? JSON_PRETTY : JSON_SHORT;
                return 1;
        }
        if (strcmp(text, "help") == 0) {
                for (size_t i = 0; i < ELEMENTSOF(json_mode_names); i++)
                        puts(json_mode_names[i]);
                return 0;
        }
        mode = json_mode_from_name(text);
        if (mode < 0)
                return usage_error("--json: '%s' is not a JSON mode (short, pretty, off).", text);
        *ret = (JsonMode) mode;
        return 1;
}

/* Returns 1 to go on, 0 to exit successfully, negative on a usage error. */
static int parse_arguments(int argc, char *argv[], Arguments *arguments) {
        enum { OPTION_JSON = 0x100, OPTION_USER, OPTION_ALL, OPTION_OTHERS, OPTION_SINCE, OPTION_LIMIT,
               OPTION_SOCKET, OPTION_FLEET, OPTION_FLEET_SOCKET, OPTION_VERSION };
        static const struct option options[] = {
                { "json",    optional_argument, NULL, OPTION_JSON    },
                { "user",    required_argument, NULL, OPTION_USER    },
                { "all",     no_argument,       NULL, OPTION_ALL     },
                { "others",  no_argument,       NULL, OPTION_OTHERS  },
                { "yes",     no_argument,       NULL, 'y'            },
                { "since",   required_argument, NULL, OPTION_SINCE   },
                { "limit",   required_argument, NULL, OPTION_LIMIT   },
                { "socket",  required_argument, NULL, OPTION_SOCKET  },
                { "fleet",   no_argument,       NULL, OPTION_FLEET   },
                { "fleet-socket", required_argument, NULL, OPTION_FLEET_SOCKET },
                { "help",    no_argument,       NULL, 'h'            },
                { "version", no_argument,       NULL, OPTION_VERSION },
                {}
        };
        int c, r;

        opterr = 0;
        /* Options may come before or after the command ("sessmgrctl list --json"). */
        while ((c = getopt_long(argc, argv, ":hjy", options, NULL)) >= 0)
                switch (c) {
                case OPTION_JSON:
                        r = parse_json_mode(optarg, optind < argc ? argv[optind] : NULL, &arguments->json);
                        /* Plain --json is short wherever it goes; -j follows the terminal. */
                        if (r > 0 && !optarg)
                                arguments->json = JSON_SHORT;
                        if (r <= 0)
                                return r;
                        arguments->given |= GROUP_JSON;
                        break;
                case 'j':
                        (void) parse_json_mode(NULL, NULL, &arguments->json);
                        arguments->given |= GROUP_JSON;
                        break;
                case OPTION_USER:
                        arguments->user = optarg;
                        arguments->given |= GROUP_WHOSE;
                        break;
                case OPTION_ALL:
                        arguments->all = true;
                        arguments->given |= GROUP_WHOSE;
                        break;
                case OPTION_OTHERS:
                        arguments->others = true;
                        arguments->given |= GROUP_OTHERS;
                        break;
                case 'y':
                        arguments->assume_yes = true;
                        arguments->given |= GROUP_YES;
                        break;
                case OPTION_SINCE:
                        if (parse_timestamp(optarg, now_usec(CLOCK_REALTIME), &arguments->since_usec) < 0)
                                return usage_error("--since: '%s' is not a time (try 2026-11-28, "
                                                   "\"2026-11-28 06:52\", today, yesterday, 12h, 7d).", optarg);
                        arguments->given |= GROUP_HISTORY;
                        break;
                case OPTION_LIMIT:
                        if (parse_limit(optarg, &arguments->limit) < 0)
                                return usage_error("--limit: '%s' is not a number from 0 to 10000.", optarg);
                        arguments->given |= GROUP_HISTORY;
                        break;
                case OPTION_SOCKET:  arguments->socket_path = optarg; break;
                case OPTION_FLEET:
                        arguments->fleet = true;
                        arguments->given |= GROUP_FLEET;
                        break;
                case OPTION_FLEET_SOCKET:
                        arguments->fleet_socket_path = optarg;
                        arguments->given |= GROUP_FLEET;
                        break;
                case 'h':            help(); return 0;
                case OPTION_VERSION: printf("sessmgrctl %s\n", PACKAGE_VERSION); return 0;
                case ':':            return usage_error("option '%s' needs a value.", argv[optind - 1]);
                default:             return usage_error("unknown option '%s'.", argv[optind - 1]);
                }
        return 1;
}

static int resolve_uid(const Arguments *arguments, uint32_t *ret) {
        struct passwd *entry;
        unsigned long long number;

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
        /* A uid without a name, below the "every user" value. */
        if (parse_unsigned(arguments->user, 0, SESSMGR_UID_ALL - 1, &number) >= 0) {
                *ret = (uint32_t) number;
                return 0;
        }
        return log_error_errno(ESRCH, "No such user: %s", arguments->user);
}

static int parse_session_ids(char **args, unsigned n_args, Arguments *arguments) {
        if (arguments->fleet) {
                /* HOST:ID, checked here so that a typo is a usage error. */
                for (unsigned i = 0; i < n_args; i++) {
                        _cleanup_(freep) char *host = NULL;
                        uint64_t id;

                        if (fleet_parse_id(args[i], &host, &id) < 0)
                                return usage_error("'%s' is not a fleet session id: HOST:ID, as list --fleet shows them.",
                                                   args[i]);
                }
                arguments->fleet_ids = args;
                arguments->id_count = n_args;
                return 0;
        }
        arguments->ids = calloc(n_args ?: 1, sizeof(uint64_t));
        if (!arguments->ids)
                return log_error_errno(ENOMEM, "Out of memory.");
        for (unsigned i = 0; i < n_args; i++) {
                unsigned long long id;

                if (parse_unsigned(args[i], 0, UINT64_MAX, &id) < 0)
                        return usage_error("'%s' is not a session id.", args[i]);
                arguments->ids[i] = id;
        }
        arguments->id_count = n_args;
        return 0;
}

/* list and history: the user's own sessions, another user's or every user's. */
static int check_whose(const Verb *verb, Arguments *arguments, char **args, unsigned n_args) {
        if (arguments->user && arguments->all)
                return usage_error("--user and --all exclude each other with %s.", verb->name);
        return 0;
}

static int check_show(const Verb *verb, Arguments *arguments, char **args, unsigned n_args) {
        return parse_session_ids(args, n_args, arguments);
}

static int check_logout(const Verb *verb, Arguments *arguments, char **args, unsigned n_args) {
        if (arguments->all + arguments->others + (n_args > 0) != 1)
                return usage_error("logout takes session ids, or --others, or --all.");
        if (arguments->user && n_args > 0)
                return usage_error("--user goes with --others or --all, not with session ids.");
        /* A program cannot answer the question, and its stdout is for the JSON. */
        if (arguments->json != JSON_OFF && !arguments->assume_yes)
                return usage_error("logout with JSON output does not ask for confirmation: add --yes.");
        return parse_session_ids(args, n_args, arguments);
}

static FleetOptions fleet_options(const Arguments *arguments) {
        return (FleetOptions) {
                .socket_path = arguments->fleet_socket_path ?: FLEET_SOCKET_PATH,
                .daemon_socket = arguments->socket_path,
                .user = arguments->user,
                .every_user = arguments->all,
                .since_usec = arguments->since_usec,
                .limit = arguments->limit,
                .json = arguments->json,
        };
}

static int run_list(sd_bus *bus, const Arguments *arguments) {
        uint32_t uid = 0;
        int r;

        if (arguments->fleet) {
                FleetOptions options = fleet_options(arguments);

                return fleet_show_sessions(&options);
        }
        r = resolve_uid(arguments, &uid);
        return r < 0 ? r : show_sessions(bus, uid, arguments->json);
}

static int run_show(sd_bus *bus, const Arguments *arguments) {
        if (arguments->fleet) {
                FleetOptions options = fleet_options(arguments);

                return fleet_show_session(&options, arguments->fleet_ids[0]);
        }
        return show_session(bus, arguments->ids[0], arguments->json);
}

static int run_history(sd_bus *bus, const Arguments *arguments) {
        uint32_t uid = 0;
        int r;

        if (arguments->fleet) {
                FleetOptions options = fleet_options(arguments);

                return fleet_show_history(&options);
        }
        r = resolve_uid(arguments, &uid);
        return r < 0 ? r : show_history(bus, uid, arguments->since_usec, arguments->limit, arguments->json);
}

static int run_logout(sd_bus *bus, const Arguments *arguments) {
        LogoutRequest request = {
                .mode = arguments->all ? LOGOUT_ALL : arguments->others ? LOGOUT_OTHERS : LOGOUT_NAMED,
                .ids = arguments->ids,
                .id_count = arguments->id_count,
                .assume_yes = arguments->assume_yes,
                .json = arguments->json,
        };
        Arguments whose = *arguments;
        int r;

        if (arguments->fleet) {
                FleetOptions options = fleet_options(arguments);

                /* --all: all of the user's sessions, as without --fleet. */
                options.every_user = false;
                if (getuid() != 0 && arguments->user)
                        return log_error_errno(EPERM, "Only root may log out another user's sessions.");
                return fleet_logout(&options, request.mode == LOGOUT_ALL ? FLEET_LOGOUT_ALL :
                                    request.mode == LOGOUT_OTHERS ? FLEET_LOGOUT_OTHERS : FLEET_LOGOUT_NAMED,
                                    arguments->fleet_ids, arguments->id_count, arguments->assume_yes);
        }

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

static const Verb verbs[] = {
        { "list",    0, 0,        NULL,                     GROUP_WHOSE | GROUP_JSON | GROUP_FLEET, true, check_whose,
          run_list },
        { "show",    1, 1,        "exactly one session id", GROUP_JSON | GROUP_FLEET,  false, check_show, run_show },
        { "history", 0, 0,        NULL,                     GROUP_WHOSE | GROUP_HISTORY | GROUP_JSON | GROUP_FLEET,
          false, check_whose, run_history },
        /* Its operands and --others/--all exclude each other: check_logout says so. */
        { "logout",  0, UINT_MAX, NULL,                     GROUP_WHOSE | GROUP_OTHERS | GROUP_YES | GROUP_JSON |
          GROUP_FLEET, false, check_logout, run_logout },
};

static const Verb *find_verb(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (name ? strcmp(verbs[i].name, name) == 0 : verbs[i].is_default)
                        return &verbs[i];
        return NULL;
}

/* "--json does not apply to logout.", or "--yes applies to logout only." when one verb takes it. */
static int refuse_option_group(const Verb *verb, size_t group) {
        const Verb *taker = NULL;
        unsigned takers = 0;

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (verbs[i].options & option_groups[group].group) {
                        taker = &verbs[i];
                        takers++;
                }
        if (takers == 1)
                return usage_error("%s appl%s to %s only.", option_groups[group].names,
                                   option_groups[group].plural ? "y" : "ies", taker->name);
        return usage_error("%s do%s not apply to %s.", option_groups[group].names,
                           option_groups[group].plural ? "" : "es", verb->name);
}

/* Everything that makes a usage error, before sessmgrd is asked anything. */
static int check_verb(const Verb *verb, Arguments *arguments, char **args, unsigned n_args) {
        if (n_args < verb->min_args || n_args > verb->max_args) {
                if (verb->max_args == 0)
                        return usage_error("%s takes no arguments, got '%s'.", verb->name, args[0]);
                return usage_error("%s takes %s.", verb->name, verb->args_text);
        }
        for (size_t i = 0; i < ELEMENTSOF(option_groups); i++)
                if ((arguments->given & option_groups[i].group) && !(verb->options & option_groups[i].group))
                        return refuse_option_group(verb, i);
        return verb->check ? verb->check(verb, arguments, args, n_args) : 0;
}

static void arguments_done(Arguments *arguments) {
        free(arguments->ids);
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(arguments_done) Arguments arguments = { .socket_path = SESSMGR_SOCKET_PATH, .limit = 50 };
        const Verb *verb;
        const char *name;
        int r;

        setlocale(LC_ALL, "");
        log_setup("sessmgrctl");

        r = parse_arguments(argc, argv, &arguments);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;

        name = optind < argc ? argv[optind] : NULL;
        verb = find_verb(name);
        if (!verb)
                return usage_error("unknown command '%s'.", name), EXIT_USAGE;
        r = check_verb(verb, &arguments, argv + optind + !!name, (unsigned) (argc - optind - !!name));
        if (r < 0)
                return r == -ENOMEM ? EXIT_FAILURE : EXIT_USAGE;

        /* --fleet talks to the fleet agent (and to sessmgrd only to find this session). */
        if (!arguments.fleet && daemon_connect(arguments.socket_path, &bus) < 0)
                return EXIT_FAILURE;
        return verb->run(bus, &arguments) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
