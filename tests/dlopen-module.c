/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loads the built PAM module the way libpam does (RTLD_NOW: every symbol must resolve)
 * and checks that it exports the session entry points. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char *argv[]) {
        static const char *const required[] = { "pam_sm_open_session", "pam_sm_close_session" };
        void *module;

        if (argc != 2) {
                fprintf(stderr, "usage: %s MODULE.so\n", argv[0]);
                return 2;
        }
        module = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
        if (!module) {
                fprintf(stderr, "dlopen failed: %s\n", dlerror());
                return 1;
        }
        for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
                if (!dlsym(module, required[i])) {
                        fprintf(stderr, "missing symbol %s\n", required[i]);
                        return 1;
                }
        /* Internal helpers must stay hidden: sshd shares one symbol namespace with us. */
        if (dlsym(module, "sessmgr_connect") || dlsym(module, "session_record_append")) {
                fprintf(stderr, "internal symbols are exported\n");
                return 1;
        }
        if (dlclose(module) != 0) {
                fprintf(stderr, "dlclose failed: %s\n", dlerror());
                return 1;
        }
        printf("ok: %s loads with RTLD_NOW and exports only the session entry points\n", argv[1]);
        return 0;
}
