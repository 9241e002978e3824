/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent.h"
#include "config.h"
#include "log.h"
#include "migrate.h"
#include "status.h"

#define MACHINE_ID_PATH "/etc/machine-id"
#define EXIT_USAGE 2

typedef enum Mode {
        MODE_AGENT,
        MODE_ONCE,
        MODE_INIT,
        MODE_STATUS,
} Mode;

typedef struct Arguments {
        Mode mode;
        const char *config_path;
        const char *socket_path;
        const char *listen_path;
        const char *machine_id;
        const char *connection;
        const char *sql_directory;
        bool debug;
} Arguments;

static void help(void) {
        printf("Usage: sessmgr-fleet [OPTIONS]\n"
               "       sessmgr-fleet --status\n"
               "       sessmgr-fleet --init [--connection CONNINFO]\n"
               "\n"
               "Ships this machine's sessions from sessmgrd to the fleet's PostgreSQL database and\n"
               "brings revocations from other machines back to sessmgrd. Normally started by\n"
               "systemd as sessmgr-fleet.service.\n"
               "\n"
               "  --status          show what the fleet database knows of this machine, then exit\n"
               "  --init            bring the fleet database's schema up to date (for the DBA), then exit\n"
               "  --once            ship what changed and answer pending revocations, then exit\n"
               "  --config PATH     configuration file (default " FLEET_CONFIG_PATH ")\n"
               "  --connection CONNINFO\n"
               "                    libpq connection string (overrides [Database] Connection=)\n"
               "  --socket PATH     sessmgrd's socket (default " SESSMGR_SOCKET_PATH ")\n"
               "  --listen PATH     the agent's own socket, for sessmgrctl --fleet\n"
               "                    (default " FLEET_SOCKET_PATH "; \"\": none)\n"
               "  --machine-id ID   this machine's id (default: " MACHINE_ID_PATH ")\n"
               "  --sql-directory PATH\n"
               "                    the migrations for --init (default " FLEET_SQL_DIRECTORY ")\n"
               "  --debug           log each batch shipped\n"
               "  -h, --help        show this help\n"
               "  --version         show the version\n"
               "\n"
               "See sessmgr-fleet(8).\n");
}

static bool is_machine_id(const char *s) {
        return strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

/* Returns 1 to go on, 0 to exit successfully, negative on a usage error. */
static int parse_arguments(int argc, char *argv[], Arguments *arguments) {
        enum {
                OPTION_STATUS = 0x100, OPTION_INIT, OPTION_ONCE, OPTION_CONFIG, OPTION_CONNECTION, OPTION_SOCKET,
                OPTION_LISTEN, OPTION_MACHINE_ID, OPTION_SQL_DIRECTORY, OPTION_DEBUG, OPTION_VERSION,
        };
        static const struct option options[] = {
                { "status",        no_argument,       NULL, OPTION_STATUS        },
                { "check",         no_argument,       NULL, OPTION_STATUS        },
                { "init",          no_argument,       NULL, OPTION_INIT          },
                { "once",          no_argument,       NULL, OPTION_ONCE          },
                { "config",        required_argument, NULL, OPTION_CONFIG        },
                { "connection",    required_argument, NULL, OPTION_CONNECTION    },
                { "socket",        required_argument, NULL, OPTION_SOCKET        },
                { "listen",        required_argument, NULL, OPTION_LISTEN        },
                { "machine-id",    required_argument, NULL, OPTION_MACHINE_ID    },
                { "sql-directory", required_argument, NULL, OPTION_SQL_DIRECTORY },
                { "debug",         no_argument,       NULL, OPTION_DEBUG         },
                { "help",          no_argument,       NULL, 'h'                  },
                { "version",       no_argument,       NULL, OPTION_VERSION       },
                {}
        };
        Mode mode = MODE_AGENT;
        int c, modes = 0;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case OPTION_STATUS:
                case OPTION_INIT:
                case OPTION_ONCE:
                        mode = c == OPTION_STATUS ? MODE_STATUS : c == OPTION_INIT ? MODE_INIT : MODE_ONCE;
                        modes++;
                        break;
                case OPTION_CONFIG:
                        arguments->config_path = optarg;
                        break;
                case OPTION_CONNECTION:
                        arguments->connection = optarg;
                        break;
                case OPTION_SOCKET:
                        if (optarg[0] != '/') {
                                log_error("--socket takes an absolute path");
                                return -EINVAL;
                        }
                        arguments->socket_path = optarg;
                        break;
                case OPTION_LISTEN:
                        if (optarg[0] != '/' && optarg[0] != '\0') {
                                log_error("--listen takes an absolute path, or \"\" for none");
                                return -EINVAL;
                        }
                        arguments->listen_path = optarg[0] ? optarg : NULL;
                        break;
                case OPTION_MACHINE_ID:
                        if (!is_machine_id(optarg)) {
                                log_error("--machine-id takes 32 lower-case hex digits, as in %s, not '%s'",
                                          MACHINE_ID_PATH, optarg);
                                return -EINVAL;
                        }
                        arguments->machine_id = optarg;
                        break;
                case OPTION_SQL_DIRECTORY:
                        arguments->sql_directory = optarg;
                        break;
                case OPTION_DEBUG:
                        arguments->debug = true;
                        break;
                case 'h':
                        help();
                        return 0;
                case OPTION_VERSION:
                        printf("sessmgr-fleet %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }

        if (optind < argc) {
                log_error("unexpected argument: %s", argv[optind]);
                return -EINVAL;
        }
        if (modes > 1) {
                log_error("--status, --init and --once exclude each other");
                return -EINVAL;
        }
        arguments->mode = mode;
        return 1;
}

static int read_machine_id(char ret[static 33]) {
        _cleanup_(fclosep) FILE *f = NULL;
        char line[64];

        f = fopen(MACHINE_ID_PATH, "re");
        if (!f)
                return log_error_errno(errno, "cannot read %s: %m", MACHINE_ID_PATH);
        if (!fgets(line, sizeof(line), f))
                line[0] = '\0';
        line[strcspn(line, "\n")] = '\0';
        if (!is_machine_id(line))
                return log_error_errno(EINVAL, "%s does not hold a machine id (32 hex digits)", MACHINE_ID_PATH);
        memcpy(ret, line, 33);
        return 0;
}

/* The file may hold the database's password: say so when every user can read it. */
static void check_config_mode(const char *path) {
        struct stat st;

        if (stat(path, &st) == 0 && (st.st_mode & S_IROTH))
                log_warning("%s is readable by every user, and may hold the fleet database's credential: "
                            "make it 0640, owned by root and group sessmgr-fleet", path);
}

int main(int argc, char *argv[]) {
        _cleanup_(fleet_config_done) FleetConfig config;
        _cleanup_(freep) char *config_error = NULL;
        Arguments arguments = {
                .config_path = FLEET_CONFIG_PATH,
                .socket_path = SESSMGR_SOCKET_PATH,
                .listen_path = FLEET_SOCKET_PATH,
                .sql_directory = FLEET_SQL_DIRECTORY,
        };
        char machine_id[33];
        int r;

        log_setup("sessmgr-fleet");
        fleet_config_defaults(&config);
        r = parse_arguments(argc, argv, &arguments);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : 0;
        if (arguments.debug)
                log_set_max_level(LOG_DEBUG);
        signal(SIGPIPE, SIG_IGN);

        /* A connection string on the command line stands in for a missing file (--init is
         * the DBA's, on a machine that need not be one of the fleet). */
        r = fleet_config_load(&config, arguments.config_path, &config_error);
        if (r < 0 && !(r == -ENOENT && arguments.connection))
                return log_error_errno(r, "%s", config_error ?: "cannot read the configuration"), EXIT_USAGE;
        if (arguments.connection) {
                free(config.connection);
                config.connection = strdup(arguments.connection);
                if (!config.connection)
                        return log_error_errno(ENOMEM, "out of memory"), 1;
        }
        if (!config.connection)
                return log_error("%s: [Database] Connection= is not set: the agent needs the fleet's database",
                                 arguments.config_path), EXIT_USAGE;

        if (arguments.mode == MODE_INIT)
                return migrate_database(config.connection, arguments.sql_directory) < 0 ? 1 : 0;

        if (arguments.machine_id)
                memcpy(machine_id, arguments.machine_id, 33);
        else if (read_machine_id(machine_id) < 0)
                return 1;

        if (arguments.mode == MODE_STATUS)
                return status_show(&config, machine_id, arguments.socket_path) < 0 ? 1 : 0;

        check_config_mode(arguments.config_path);
        log_info("shipping the sessions of machine %s from %s", machine_id, arguments.socket_path);
        r = agent_run(&(AgentOptions) {
                .config = &config,
                .machine_id = machine_id,
                .socket_path = arguments.socket_path,
                /* --once serves nobody: it exits when its round is done. */
                .listen_path = arguments.mode == MODE_ONCE ? NULL : arguments.listen_path,
                .once = arguments.mode == MODE_ONCE,
        });
        return r < 0 ? 1 : 0;
}
