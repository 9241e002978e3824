/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config-files.h"
#include "log.h"
#include "manager.h"
#include "parse-util.h"
#include "reload.h"

typedef enum Action {
        ACTION_RUN,
        ACTION_CAT_CONFIG,      /* print the configuration files, in the order they are read */
        ACTION_DUMP_CONFIG,     /* print the settings they make */
} Action;

typedef struct Arguments {
        Action action;
        const char *socket_path;
        const char *database_path;
        ConfigSource config;
        int64_t poll_interval_usec;     /* 0: from the configuration */
        const char *cgroup_root;
        bool debug;
} Arguments;

static void help(void) {
        printf("Usage: sessmgrd [OPTIONS]\n"
               "\n"
               "Records the login sessions of this machine and serves them to sessmgrctl.\n"
               "Normally started by systemd through sessmgrd.socket.\n"
               "\n"
               "  --socket PATH   listen on PATH when not socket-activated\n"
               "                  (default " SESSMGR_SOCKET_PATH ")\n"
               "  --db PATH       session database (default " SESSMGR_DATABASE_PATH ")\n"
               "  --config PATH   read this configuration file alone, instead of\n"
               "                  " SESSMGR_CONFIG_PATH ", its drop-ins and those in\n"
               "                  " SESSMGR_RUNTIME_CONFIG_DIRECTORY " and " SESSMGR_VENDOR_CONFIG_DIRECTORY "\n"
               "  --config-root DIR\n"
               "                  look for the configuration files under DIR (an image, tests)\n"
               "  --cat-config    print the configuration files in the order they are read, and exit\n"
               "  --dump-config   print the settings in effect, every one of them, and exit\n"
               "  --poll-interval SECONDS\n"
               "                  how often sessions are looked at for activity\n"
               "                  (overrides PollIntervalSec=; default 30)\n"
               "  --cgroup-root PATH\n"
               "                  where session cgroups are (default: the cgroup v2 hierarchy;\n"
               "                  for tests and benchmarks)\n"
               "  --debug         log every session opened and closed\n"
               "  -h, --help      show this help\n"
               "  --version       show the version\n"
               "\n"
               "SIGHUP (systemctl reload sessmgrd) reads the configuration again.\n"
               "See sessmgrd(8) and sessmgrd.conf(5).\n");
}

/* Returns 1 to go on, 0 to exit successfully, negative on a usage error. */
static int parse_arguments(int argc, char *argv[], Arguments *arguments) {
        enum {
                OPTION_SOCKET = 0x100, OPTION_DB, OPTION_CONFIG, OPTION_CONFIG_ROOT, OPTION_CAT_CONFIG,
                OPTION_DUMP_CONFIG, OPTION_POLL_INTERVAL, OPTION_CGROUP_ROOT, OPTION_DEBUG, OPTION_VERSION,
        };
        static const struct option options[] = {
                { "socket",  required_argument, NULL, OPTION_SOCKET  },
                { "db",      required_argument, NULL, OPTION_DB      },
                { "config",  required_argument, NULL, OPTION_CONFIG  },
                { "config-root", required_argument, NULL, OPTION_CONFIG_ROOT },
                { "cat-config", no_argument,    NULL, OPTION_CAT_CONFIG },
                { "dump-config", no_argument,   NULL, OPTION_DUMP_CONFIG },
                { "poll-interval", required_argument, NULL, OPTION_POLL_INTERVAL },
                { "cgroup-root", required_argument, NULL, OPTION_CGROUP_ROOT },
                { "debug",   no_argument,       NULL, OPTION_DEBUG   },
                { "help",    no_argument,       NULL, 'h'            },
                { "version", no_argument,       NULL, OPTION_VERSION },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case OPTION_SOCKET:
                        arguments->socket_path = optarg;
                        break;
                case OPTION_DB:
                        arguments->database_path = optarg;
                        break;
                case OPTION_CONFIG:
                        arguments->config.path = optarg;
                        break;
                case OPTION_CONFIG_ROOT:
                        if (optarg[0] != '/') {
                                log_error("--config-root takes an absolute path");
                                return -EINVAL;
                        }
                        arguments->config.root = optarg;
                        break;
                case OPTION_CAT_CONFIG:
                        arguments->action = ACTION_CAT_CONFIG;
                        break;
                case OPTION_DUMP_CONFIG:
                        arguments->action = ACTION_DUMP_CONFIG;
                        break;
                case OPTION_POLL_INTERVAL: {
                        unsigned long long seconds;

                        if (parse_unsigned(optarg, 1, 86400, &seconds) < 0) {
                                log_error("--poll-interval takes 1 to 86400 seconds, not '%s'", optarg);
                                return -EINVAL;
                        }
                        arguments->poll_interval_usec = (int64_t) seconds * USEC_PER_SEC;
                        break;
                }
                case OPTION_CGROUP_ROOT:
                        if (optarg[0] != '/') {
                                log_error("--cgroup-root takes an absolute path");
                                return -EINVAL;
                        }
                        arguments->cgroup_root = optarg;
                        break;
                case OPTION_DEBUG:
                        arguments->debug = true;
                        break;
                case 'h':
                        help();
                        return 0;
                case OPTION_VERSION:
                        printf("sessmgrd %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }

        if (optind < argc) {
                log_error("unexpected argument: %s", argv[optind]);
                return -EINVAL;
        }
        if (arguments->config.path && arguments->config.root) {
                log_error("--config names one file, --config-root where to look for them: not both");
                return -EINVAL;
        }
        if (arguments->socket_path[0] != '/' || arguments->database_path[0] != '/') {
                log_error("--socket and --db take absolute paths");
                return -EINVAL;
        }
        return 1;
}

/* As systemd-analyze cat-config: each file under a "# PATH" line. */
static int cat_config(const ConfigSource *source) {
        _cleanup_(config_files_freep) char **paths = NULL;
        _cleanup_(freep) char *error = NULL;
        bool first = true;
        int r;

        r = config_source_files(source, &paths, &error);
        if (r < 0)
                return log_error_errno(r, "%s", error ?: "out of memory");
        for (char **path = paths; *path; path++) {
                _cleanup_(fclosep) FILE *f = fopen(*path, "re");
                char buffer[4096];
                size_t n;

                if (!f) {
                        if (errno == ENOENT)
                                continue;       /* gone meanwhile, or --config naming none */
                        return log_error_errno(errno, "%s: cannot open it: %m", *path);
                }
                printf("%s# %s\n", first ? "" : "\n", *path);
                first = false;
                while ((n = fread(buffer, 1, sizeof(buffer), f)) > 0)
                        fwrite(buffer, 1, n, stdout);
                if (ferror(f))
                        return log_error_errno(EIO, "%s: cannot read it", *path);
        }
        return fflush(stdout) == 0 ? 0 : -errno;
}

static int dump_config(const Arguments *arguments) {
        _cleanup_(freep) char *error = NULL;
        Config config;
        int r;

        r = config_source_load(&arguments->config, &config, &error);
        if (r < 0)
                return log_error_errno(r, "%s", error ?: "out of memory");
        if (arguments->poll_interval_usec > 0)
                config.poll_interval_usec = arguments->poll_interval_usec;
        r = config_dump(&config, stdout);
        config_done(&config);
        return r;
}

int main(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *manager = NULL;
        Arguments arguments = {
                .socket_path = SESSMGR_SOCKET_PATH,
                .database_path = SESSMGR_DATABASE_PATH,
        };
        _cleanup_(reloader_freep) Reloader *reloader = NULL;   /* freed before the manager */
        _cleanup_(freep) char *config_error = NULL;
        sigset_t mask;
        int r;

        log_setup("sessmgrd");
        r = parse_arguments(argc, argv, &arguments);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        if (arguments.debug)
                log_set_max_level(LOG_DEBUG);
        if (arguments.action == ACTION_CAT_CONFIG)
                return cat_config(&arguments.config) < 0 ? 1 : 0;
        if (arguments.action == ACTION_DUMP_CONFIG)
                return dump_config(&arguments) < 0 ? 1 : 0;

        /* The database and its WAL hold every user's logins. */
        umask(0077);
        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = manager_new(&manager);
        if (r < 0)
                return log_error_errno(r, "cannot start: %m"), 1;
        config_done(&manager->config);
        r = config_source_load(&arguments.config, &manager->config, &config_error);
        if (r < 0) {
                config_defaults(&manager->config);
                return log_error_errno(r, "%s", config_error ?: "cannot read the configuration"), 1;
        }
        if (arguments.poll_interval_usec > 0)
                manager->config.poll_interval_usec = arguments.poll_interval_usec;
        r = manager_open_store(manager, arguments.database_path);
        if (r < 0)
                return 1;       /* store_open said what is wrong */
        r = server_listen(manager, arguments.socket_path);
        if (r < 0)
                return log_error_errno(r, "cannot listen: %m"), 1;

        r = logind_start(manager);
        if (r >= 0)
                r = poller_start(manager, manager->config.poll_interval_usec, arguments.cgroup_root);
        if (r >= 0)
                r = retention_start(manager);
        if (r >= 0)
                r = sshd_auth_start(manager);
        if (r >= 0)
                r = reloader_start(manager, &arguments.config, arguments.poll_interval_usec, &reloader);
        if (r < 0)
                return log_error_errno(r, "cannot start: %m"), 1;

        log_info("recording sessions in %s", arguments.database_path);
        r = manager_run(manager);
        return r < 0 ? 1 : 0;
}
