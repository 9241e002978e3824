/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-device.h>

#include "activity-probe.h"
#include "macro.h"

#define TTYS_MAX 16             /* one SSH connection rarely holds more; the rest is ignored */

const char *activity_cgroup_root(void) {
        static const char *const candidates[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };

        for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
                struct statfs fs;
                if (statfs(candidates[i], &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
                        return candidates[i];
        }
        return NULL;
}

char *tty_name_from_number(unsigned long tty_number) {
        /* Names for "the terminal of whoever asks" rather than a terminal: the foreground VT,
         * the caller's own terminal, the kernel's console and the pty multiplexer. */
        static const char *const aliases[] = { "/dev/tty0", "/dev/tty", "/dev/console", "/dev/ptmx" };
        _cleanup_(sd_device_unrefp) sd_device *device = NULL;
        unsigned major = major(tty_number);
        const char *subsystem, *devname;

        /* Unix98 pseudo-terminals have no entry in sysfs, so sd-device knows none of them
         * (-ENODEV; systemd's get_ctty() guesses them too): the kernel numbers them on majors
         * 136-143, 256 to a major. probe_ttys() checks /dev/pts/N is that device. */
        if (major >= 136 && major <= 143) {
                char *pts = NULL;
                return asprintf(&pts, "pts/%u", (major - 136) * 256 + minor(tty_number)) < 0 ? NULL : pts;
        }

        /* The rest (VTs, serial ports of any driver) the kernel names in sysfs. */
        if (tty_number == 0 || sd_device_new_from_devnum(&device, 'c', (dev_t) tty_number) < 0)
                return NULL;
        if (sd_device_get_subsystem(device, &subsystem) < 0 || strcmp(subsystem, "tty") != 0)
                return NULL;
        if (sd_device_get_devname(device, &devname) < 0)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
                if (strcmp(devname, aliases[i]) == 0)
                        return NULL;
        if (strncmp(devname, "/dev/", 5) != 0)
                return NULL;
        return strdup(devname + 5);
}

/* "directory/file" into path; false when it does not fit. */
static bool join_path(char path[static PATH_MAX], const char *directory, const char *file) {
        int n = snprintf(path, PATH_MAX, "%s/%s", directory, file);
        return n > 0 && n < PATH_MAX;
}

/* Sums the values of the given keys in a cgroup file: "usage_usec 123" lines in cpu.stat,
 * "8:0 rbytes=123 wbytes=4 ..." lines in io.stat (one per device). -1 when the file is
 * missing. */
static int64_t read_counter(const char *directory, const char *file, const char *const *keys, size_t key_count) {
        _cleanup_(fclosep) FILE *f = NULL;
        char path[PATH_MAX], line[512];
        int64_t total = 0;

        if (!join_path(path, directory, file))
                return -1;
        f = fopen(path, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f)) {
                char *state = NULL;

                for (char *word = strtok_r(line, " \n", &state); word; word = strtok_r(NULL, " \n", &state))
                        for (size_t i = 0; i < key_count; i++) {
                                size_t length = strlen(keys[i]);
                                const char *value;

                                if (strncmp(word, keys[i], length) != 0)
                                        continue;
                                if (word[length] == '=')
                                        value = word + length + 1;
                                else if (word[length] == '\0')
                                        value = strtok_r(NULL, " \n", &state);
                                else
                                        continue;
                                if (value)
                                        total += strtoll(value, NULL, 10);
                                break;
                        }
        }
        return total;
}

static unsigned long read_tty_number(pid_t pid) {
        char path[64], buffer[1024], *after_comm;
        unsigned long tty_number = 0;
        _cleanup_(closep) int fd = -1;
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;       /* exited meanwhile */
        n = read(fd, buffer, sizeof(buffer) - 1);
        if (n <= 0)
                return 0;
        buffer[n] = '\0';
        /* The command name may hold spaces and parentheses: fields resume after the last ')'. */
        after_comm = strrchr(buffer, ')');
        if (!after_comm || sscanf(after_comm + 1, " %*c %*d %*d %*d %lu", &tty_number) != 1)
                return 0;
        return tty_number;
}

int process_start_time_usec(pid_t pid, int64_t *ret) {
        char path[64], buffer[1024], *after_comm;
        unsigned long long start_ticks;
        _cleanup_(closep) int fd = -1;
        struct timespec boot, real;
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buffer, sizeof(buffer) - 1);
        if (n <= 0)
                return n < 0 ? -errno : -ESRCH;
        buffer[n] = '\0';
        /* Field 22, the start in clock ticks since boot, counted after the last ')'. */
        after_comm = strrchr(buffer, ')');
        if (!after_comm || sscanf(after_comm + 1, " %*c" "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s"
                                  "%*s %*s %*s %*s %*s %*s %*s %*s %llu", &start_ticks) != 1)
                return -EBADMSG;
        if (clock_gettime(CLOCK_BOOTTIME, &boot) < 0 || clock_gettime(CLOCK_REALTIME, &real) < 0)
                return -errno;
        *ret = (int64_t) real.tv_sec * USEC_PER_SEC + real.tv_nsec / 1000 -
               ((int64_t) boot.tv_sec * USEC_PER_SEC + boot.tv_nsec / 1000) +
               (int64_t) (start_ticks * USEC_PER_SEC / (unsigned long long) sysconf(_SC_CLK_TCK));
        return 0;
}

static int add_unique(unsigned long *numbers, size_t *count, unsigned long number) {
        for (size_t i = 0; i < *count; i++)
                if (numbers[i] == number)
                        return 0;
        if (*count == TTYS_MAX)
                return 0;
        numbers[(*count)++] = number;
        return 1;
}

static int compare_numbers(const void *a, const void *b) {
        unsigned long x = *(const unsigned long *) a, y = *(const unsigned long *) b;
        return x < y ? -1 : x > y;
}

/* The terminals of the session's processes, and the newest input time among them. Looks
 * at max_processes at most: cgroup.procs lists the oldest first (the login's own shell),
 * and a user who starts thousands more must not make each look cost that much. */
static int probe_ttys(const char *directory, unsigned max_processes, ActivitySample *sample,
                      char **ret_ttys, unsigned *ret_processes) {
        unsigned long numbers[TTYS_MAX];
        _cleanup_(fclosep) FILE *procs = NULL;
        _cleanup_(freep) char *ttys = NULL;
        char path[PATH_MAX];
        size_t count = 0, length = 0;
        unsigned processes = 0;
        int pid;

        if (!join_path(path, directory, "cgroup.procs"))
                return -ENAMETOOLONG;
        procs = fopen(path, "re");
        if (!procs)
                return -errno;
        while (processes < max_processes && fscanf(procs, "%d", &pid) == 1) {
                unsigned long number = read_tty_number(pid);

                processes++;
                if (number != 0)
                        add_unique(numbers, &count, number);
        }
        qsort(numbers, count, sizeof(numbers[0]), compare_numbers);

        for (size_t i = 0; i < count; i++) {
                _cleanup_(freep) char *name = tty_name_from_number(numbers[i]);
                struct stat st;
                char device[64];
                char *grown;

                if (!name)
                        continue;
                snprintf(device, sizeof(device), "/dev/%s", name);
                /* The number must still be that terminal: ptys are reused quickly. */
                if (stat(device, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != numbers[i])
                        continue;
                int64_t input = (int64_t) st.st_atim.tv_sec * USEC_PER_SEC + st.st_atim.tv_nsec / 1000;
                if (input > sample->tty_input_usec)
                        sample->tty_input_usec = input;
                sample->has_tty = true;

                grown = realloc(ttys, length + strlen(name) + 2);
                if (!grown)
                        return -ENOMEM;
                ttys = grown;
                length += (size_t) sprintf(ttys + length, "%s%s", length ? " " : "", name);
        }

        *ret_ttys = TAKE_PTR(ttys);
        *ret_processes = processes;
        return 0;
}

int activity_probe_session(const char *cgroup_root, uid_t uid, const char *logind_session, unsigned max_processes,
                           ActivitySample *sample, char **ret_ttys, unsigned *ret_processes) {
        static const char *const cpu_keys[] = { "usage_usec" };
        static const char *const io_keys[] = { "rbytes", "wbytes" };
        char directory[PATH_MAX - 32];         /* room for the file names below it */

        *sample = (ActivitySample) { .cpu_usec = -1, .io_bytes = -1 };
        *ret_ttys = NULL;
        *ret_processes = 0;
        if (!cgroup_root)
                return -ENOENT;

        /* logind puts every session in this scope: the layout systemd documents. */
        int n = snprintf(directory, sizeof(directory), "%s/user.slice/user-%u.slice/session-%s.scope",
                         cgroup_root, (unsigned) uid, logind_session);
        if (n <= 0 || n >= (int) sizeof(directory))
                return -ENAMETOOLONG;
        sample->cpu_usec = read_counter(directory, "cpu.stat", cpu_keys, ELEMENTSOF(cpu_keys));
        if (sample->cpu_usec < 0)
                return -ENOENT;
        sample->io_bytes = read_counter(directory, "io.stat", io_keys, ELEMENTSOF(io_keys));
        return probe_ttys(directory, max_processes, sample, ret_ttys, ret_processes);
}
