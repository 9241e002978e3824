/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "record.h"

typedef struct Connection Connection;
typedef struct Manager Manager;

/* Who may call a method. Declared once per method in the table (methods.c) and enforced
 * in one place (dispatch.c) before the handler runs; a method without a declaration is
 * refused. The caller is who the kernel said at accept time, never what it says. */
typedef enum MethodAccess {
        ACCESS_UNDECLARED = 0,  /* refused: the default for a method nobody thought about */
        ACCESS_ROOT,            /* peer uid 0 only */
        ACCESS_OWN_UID,         /* first argument is a uid: the caller's own; root any */
        ACCESS_OWN_SESSION,     /* first argument is a session id: one of the caller's;
                                 * root any. Another user's session is "no such session",
                                 * exactly like one that does not exist. */
        ACCESS_FLEET,           /* root, or the fleet agent's user ([Fleet] AgentUser=) */
        _ACCESS_MAX,
} MethodAccess;

/* One call, with what the access check established. */
typedef struct Call {
        sd_bus_message *message;        /* read past the checked argument */
        Connection *connection;
        Manager *manager;
        uint32_t uid;                   /* ACCESS_OWN_UID: the uid asked for */
        SessionRecord session;          /* ACCESS_OWN_SESSION: the session named */
} Call;

typedef int (*MethodHandler)(Call *call, sd_bus_error *error);

typedef struct Method {
        const char *member;
        const char *signature;
        MethodAccess access;
        MethodHandler handler;
} Method;

/* The methods of org.sessmgr.Manager1 (methods.c). */
extern const Method manager_methods[];
extern const size_t manager_methods_count;

const char *method_access_to_string(MethodAccess access);

/* Answers shared by the handlers. */
int reply_store_read_failed(int error_number, sd_bus_error *error);
int reply_no_such_session(uint64_t id, sd_bus_error *error);
