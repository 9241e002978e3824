/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "log.h"
#include "protocol.h"
#include "store-internal.h"

typedef struct Fixture {
        char directory[64];
        char path[128];
} Fixture;

static int setup(void **state) {
        Fixture *fixture = calloc(1, sizeof(*fixture));

        assert_non_null(fixture);
        strcpy(fixture->directory, "/tmp/sessmgr-test-store-XXXXXX");
        assert_non_null(mkdtemp(fixture->directory));
        snprintf(fixture->path, sizeof(fixture->path), "%s/sessions.db", fixture->directory);
        *state = fixture;
        return 0;
}

static int teardown(void **state) {
        Fixture *fixture = *state;
        char command[256];

        snprintf(command, sizeof(command), "rm -rf '%s'", fixture->directory);
        assert_int_equal(system(command), 0);
        free(fixture);
        return 0;
}

#define BOOT "0123456789abcdef0123456789abcdef"
#define OLD_BOOT "fedcba9876543210fedcba9876543210"

static void make_record(SessionRecord *record, uid_t uid, const char *user, const char *service, int64_t login) {
        *record = (SessionRecord) SESSION_RECORD_INIT;
        record->uid = uid;
        assert_int_equal(record_set_string(&record->user, user), 0);
        assert_int_equal(record_set_string(&record->service, service), 0);
        assert_int_equal(record_set_string(&record->remote_address, "203.0.113.7"), 0);
        record->remote_port = 50022;
        assert_int_equal(record_set_string(&record->boot_id, BOOT), 0);
        record->login_time_usec = login;
        record->last_active_usec = login;
}

static uint64_t add(Store *store, uid_t uid, const char *user, const char *service, int64_t login) {
        _cleanup_(session_record_done) SessionRecord record;

        make_record(&record, uid, user, service, login);
        assert_int_equal(store_begin(store), 0);
        assert_int_equal(store_add_session(store, &record), 0);
        assert_int_equal(store_commit(store), 0);
        assert_true(record.id > 0);
        return record.id;
}

static void test_add_list_get_end(void **state) {
        Fixture *fixture = *state;
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_(session_record_done) SessionRecord got = SESSION_RECORD_INIT;
        SessionRecord *records = NULL;
        size_t count = 0;
        uint64_t alice1, alice2, bob;

        assert_int_equal(store_open(fixture->path, &store), 0);
        alice1 = add(store, 1000, "alice", "sshd", 100);
        bob = add(store, 1001, "bob", "login", 150);
        alice2 = add(store, 1000, "alice", "sshd", 200);
        assert_true(alice1 < bob && bob < alice2);

        assert_int_equal(store_list_open_sessions(store, 1000, &records, &count), 0);
        assert_int_equal(count, 2);
        assert_int_equal(records[0].id, alice1);        /* oldest login first */
        assert_int_equal(records[1].id, alice2);
        assert_string_equal(records[0].user, "alice");
        assert_int_equal(records[0].remote_port, 50022);
        assert_int_equal(records[0].state, SESSION_ACTIVE);
        session_record_array_free(records, count);

        assert_int_equal(store_list_open_sessions(store, SESSMGR_UID_ALL, &records, &count), 0);
        assert_int_equal(count, 3);
        session_record_array_free(records, count);

        assert_int_equal(store_begin(store), 0);
        assert_int_equal(store_end_session(store, alice1, 500, "logout", SESSION_CLOSED), 0);
        assert_int_equal(store_end_session(store, alice1, 600, "logout", SESSION_CLOSED), -ENOENT);    /* only once */
        assert_int_equal(store_end_session(store, 99999, 600, "logout", SESSION_CLOSED), -ENOENT);
        assert_int_equal(store_commit(store), 0);

        assert_int_equal(store_list_open_sessions(store, 1000, &records, &count), 0);
        assert_int_equal(count, 1);
        assert_int_equal(records[0].id, alice2);
        session_record_array_free(records, count);

        /* An ended session stays readable, with its end. */
        assert_int_equal(store_get_session(store, alice1, &got), 0);
        assert_int_equal(got.state, SESSION_CLOSED);
        assert_int_equal(got.end_time_usec, 500);
        assert_string_equal(got.end_reason, "logout");
        assert_string_equal(got.remote_address, "203.0.113.7");
        assert_null(got.tty);

        assert_int_equal(store_get_session(store, 424242, &got), -ENOENT);
        assert_int_equal(store_get_session(store, UINT64_MAX, &got), -ENOENT);
}

static void test_records_survive_reopen(void **state) {
        Fixture *fixture = *state;
        Store *store = NULL;
        SessionRecord *records = NULL;
        size_t count = 0;
        uint64_t id;

        assert_int_equal(store_open(fixture->path, &store), 0);
        id = add(store, 1000, "alice", "sshd", 100);
        store_free(store);

        assert_int_equal(store_open(fixture->path, &store), 0);
        assert_int_equal(store_list_open_sessions(store, 1000, &records, &count), 0);
        assert_int_equal(count, 1);
        assert_int_equal(records[0].id, id);
        session_record_array_free(records, count);
        /* Ids are never reused, even after the newest row is gone. */
        assert_true(add(store, 1000, "alice", "sshd", 200) > id);
        store_free(store);
}

static void test_rollback_discards(void **state) {
        Fixture *fixture = *state;
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_(session_record_done) SessionRecord record;
        SessionRecord *records = NULL;
        size_t count = 0;

        assert_int_equal(store_open(fixture->path, &store), 0);
        make_record(&record, 1000, "alice", "sshd", 100);
        assert_int_equal(store_begin(store), 0);
        assert_true(store_in_transaction(store));
        assert_int_equal(store_add_session(store, &record), 0);
        store_rollback(store);
        assert_false(store_in_transaction(store));

        assert_int_equal(store_list_open_sessions(store, SESSMGR_UID_ALL, &records, &count), 0);
        assert_int_equal(count, 0);
        free(records);
}

/* A session in logind's hands: logind id, boot. */
static uint64_t add_logind(Store *store, uid_t uid, const char *logind_session, const char *boot_id) {
        _cleanup_(session_record_done) SessionRecord record;

        make_record(&record, uid, uid == 1000 ? "alice" : "root", "sshd", 100);
        assert_int_equal(record_set_string(&record.logind_session, logind_session), 0);
        assert_int_equal(record_set_string(&record.boot_id, boot_id), 0);
        assert_int_equal(store_begin(store), 0);
        assert_int_equal(store_add_session(store, &record), 0);
        assert_int_equal(store_commit(store), 0);
        return record.id;
}

static void get(Store *store, uint64_t id, SessionRecord *record) {
        session_record_done(record);
        *record = (SessionRecord) SESSION_RECORD_INIT;
        assert_int_equal(store_get_session(store, id, record), 0);
}

static void test_logind_lifecycle(void **state) {
        Fixture *fixture = *state;
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;
        uint64_t logout, killed, lingering;

        assert_int_equal(store_open(fixture->path, &store), 0);
        logout = add_logind(store, 1000, "c1", BOOT);
        killed = add_logind(store, 1000, "c2", BOOT);
        lingering = add_logind(store, 1000, "c3", BOOT);
        assert_int_equal(store_begin(store), 0);

        /* logind says closing first (pam_systemd runs before us), then PAM reports the logout. */
        assert_int_equal(store_logind_session_closing(store, "c1", BOOT, 300), 1);
        get(store, logout, &record);
        assert_int_equal(record.state, SESSION_CLOSING);
        assert_int_equal(record.end_time_usec, 300);
        assert_null(record.end_reason);
        assert_int_equal(store_end_session(store, logout, 310, "logout", SESSION_CLOSING), 0);
        get(store, logout, &record);
        assert_int_equal(record.end_time_usec, 300);           /* the first sign of the end stays */
        assert_string_equal(record.end_reason, "logout");
        assert_int_equal(store_logind_session_removed(store, "c1", BOOT, 400, "terminated"), 1);
        get(store, logout, &record);
        assert_int_equal(record.state, SESSION_CLOSED);
        assert_string_equal(record.end_reason, "logout");      /* the reason known already wins */

        /* No PAM close at all (killed): logind's removal closes it as terminated. */
        assert_int_equal(store_logind_session_removed(store, "c2", BOOT, 500, "terminated"), 1);
        get(store, killed, &record);
        assert_int_equal(record.state, SESSION_CLOSED);
        assert_int_equal(record.end_time_usec, 500);
        assert_string_equal(record.end_reason, "terminated");

        /* Revoked: whatever ends it afterwards, the revocation is the reason. */
        assert_int_equal(store_set_revoke_reason(store, lingering, "revoked by session 1 from 203.0.113.7", 590), 0);
        assert_int_equal(store_end_session(store, lingering, 600, "logout", SESSION_CLOSING), 0);
        get(store, lingering, &record);
        assert_int_equal(record.state, SESSION_CLOSING);
        assert_string_equal(record.end_reason, "revoked by session 1 from 203.0.113.7");
        assert_int_equal(store_set_revoke_reason(store, killed, "late", 700), -ENOENT);        /* closed already */

        /* Only this boot's sessions of that logind id are touched. */
        assert_int_equal(store_logind_session_removed(store, "c3", OLD_BOOT, 700, "terminated"), 0);
        assert_int_equal(store_commit(store), 0);
}

static void test_refused_revocation_is_forgotten(void **state) {
        Fixture *fixture = *state;
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;
        uint64_t refused;

        /* Announced, but logind refused: an hour later the user logs out normally. */
        assert_int_equal(store_open(fixture->path, &store), 0);
        refused = add_logind(store, 1000, "c4", BOOT);
        assert_int_equal(store_begin(store), 0);
        assert_int_equal(store_set_revoke_reason(store, refused, "revoked by session 1 from 203.0.113.7", 1000), 0);
        assert_int_equal(store_end_session(store, refused, 1000 + 3600 * 1000000LL, "logout", SESSION_CLOSED), 0);
        assert_int_equal(store_commit(store), 0);
        get(store, refused, &record);
        assert_string_equal(record.end_reason, "logout");
}

static void test_previous_boots_are_closed(void **state) {
        Fixture *fixture = *state;
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;
        uint64_t old, current;

        assert_int_equal(store_open(fixture->path, &store), 0);
        old = add_logind(store, 1000, "5", OLD_BOOT);
        current = add_logind(store, 1000, "5", BOOT);
        assert_int_equal(store_begin(store), 0);
        assert_int_equal(store_close_previous_boots(store, BOOT), 1);
        assert_int_equal(store_commit(store), 0);

        get(store, old, &record);
        assert_int_equal(record.state, SESSION_CLOSED);
        assert_string_equal(record.end_reason, "reboot");
        assert_int_equal(record.end_time_usec, record.last_active_usec);
        get(store, current, &record);
        assert_int_equal(record.state, SESSION_ACTIVE);
}

static void test_find_by_logind_session(void **state) {
        Fixture *fixture = *state;
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;
        StringSet open = {};
        uint64_t ssh, su;

        assert_int_equal(store_open(fixture->path, &store), 0);
        ssh = add_logind(store, 1000, "7", BOOT);
        su = add_logind(store, 0, "7", BOOT);          /* "su -l" inside that SSH login */
        add_logind(store, 1000, "8", OLD_BOOT);

        assert_int_equal(store_find_by_logind_session(store, "7", BOOT, 0, &record), 0);
        assert_int_equal(record.id, su);
        session_record_done(&record);
        assert_int_equal(store_find_by_logind_session(store, "7", BOOT, 1000, &record), 0);
        assert_int_equal(record.id, ssh);
        assert_int_equal(store_find_by_logind_session(store, "8", BOOT, 1000, &record), -ENOENT);

        assert_int_equal(store_list_open_logind_sessions(store, BOOT, &open), 0);
        assert_int_equal(open.count, 1);
        assert_string_equal(open.items[0], "7");
        string_set_clear(&open);
}

static void exec_sql(const char *path, const char *sql) {
        sqlite3 *database = NULL;

        assert_int_equal(sqlite3_open(path, &database), SQLITE_OK);
        assert_int_equal(sqlite3_exec(database, sql, NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_close(database), SQLITE_OK);
}

static int query_int(const char *path, const char *sql) {
        sqlite3 *database = NULL;
        sqlite3_stmt *statement = NULL;
        int value;

        assert_int_equal(sqlite3_open(path, &database), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(database, sql, -1, &statement, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
        value = sqlite3_column_int(statement, 0);
        sqlite3_finalize(statement);
        sqlite3_close(database);
        return value;
}

static void test_migrates_version_1(void **state) {
        Fixture *fixture = *state;
        _cleanup_(store_freep) Store *store = NULL;
        SessionRecord *records = NULL;
        size_t count = 0;

        /* A database exactly as sessmgr with schema version 1 wrote it. */
        exec_sql(fixture->path,
                 "CREATE TABLE sessions (id INTEGER PRIMARY KEY AUTOINCREMENT, logind_session TEXT, boot_id TEXT,"
                 " uid INTEGER NOT NULL, user TEXT NOT NULL, service TEXT, tty TEXT, seat TEXT,"
                 " vt INTEGER NOT NULL DEFAULT 0, remote_host TEXT, remote_address TEXT,"
                 " remote_port INTEGER NOT NULL DEFAULT 0, leader_pid INTEGER NOT NULL DEFAULT 0,"
                 " login_time_usec INTEGER NOT NULL, last_active_usec INTEGER NOT NULL, state TEXT NOT NULL,"
                 " end_time_usec INTEGER NOT NULL DEFAULT 0, end_reason TEXT);"
                 "INSERT INTO sessions (uid, user, service, tty, login_time_usec, last_active_usec, state)"
                 " VALUES (1000, 'alice', 'login', 'tty2', 42, 43, 'active');"
                 "PRAGMA user_version = 1;");

        assert_int_equal(store_open(fixture->path, &store), 0);
        assert_int_equal(store_list_open_sessions(store, 1000, &records, &count), 0);
        assert_int_equal(count, 1);
        assert_string_equal(records[0].tty, "tty2");
        assert_int_equal(records[0].login_time_usec, 42);
        session_record_array_free(records, count);
        store = store_free(store);

        assert_int_equal(query_int(fixture->path, "PRAGMA user_version;"), store_schema_version());
        assert_int_equal(query_int(fixture->path,
                                   "SELECT count(*) FROM sqlite_master WHERE name = 'sessions_open_by_uid';"), 1);
        assert_int_equal(query_int(fixture->path,
                                   "SELECT count(*) FROM sqlite_master WHERE name = 'sessions_open_by_logind';"), 1);
}

static char *read_file(const char *path, size_t *ret_size) {
        FILE *f = fopen(path, "re");
        char *data;
        long size;

        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        size = ftell(f);
        rewind(f);
        data = malloc((size_t) size + 1);
        assert_non_null(data);
        assert_int_equal(fread(data, 1, (size_t) size, f), (size_t) size);
        fclose(f);
        *ret_size = (size_t) size;
        return data;
}

/* The store must refuse the file with `expected` and leave every byte of it as it was. */
static void assert_refused_untouched(const char *path, int expected) {
        _cleanup_(freep) char *before = NULL, *after = NULL;
        size_t size_before, size_after;
        Store *store = NULL;
        char wal[160];

        before = read_file(path, &size_before);
        assert_int_equal(store_open(path, &store), expected);
        assert_null(store);
        after = read_file(path, &size_after);
        assert_int_equal(size_before, size_after);
        assert_memory_equal(before, after, size_before);
        snprintf(wal, sizeof(wal), "%s-wal", path);
        assert_int_not_equal(access(wal, F_OK), 0);
}

static void test_refuses_corrupt_file(void **state) {
        Fixture *fixture = *state;
        FILE *f = fopen(fixture->path, "we");

        assert_non_null(f);
        for (int i = 0; i < 8192; i++)
                fputc((i * 7919) & 0xff, f);
        fclose(f);
        assert_refused_untouched(fixture->path, -EBADMSG);
}

static void test_refuses_damaged_database(void **state) {
        Fixture *fixture = *state;
        Store *store = NULL;
        FILE *f;

        /* A real database whose header was overwritten (a bad sector, a stray write). */
        assert_int_equal(store_open(fixture->path, &store), 0);
        add(store, 1000, "alice", "sshd", 100);
        store_free(store);
        exec_sql(fixture->path, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;");
        f = fopen(fixture->path, "r+e");
        assert_non_null(f);
        fputs("this is no longer SQLite", f);
        fclose(f);
        assert_refused_untouched(fixture->path, -EBADMSG);
}

static void test_refuses_newer_schema(void **state) {
        Fixture *fixture = *state;

        exec_sql(fixture->path, "CREATE TABLE sessions (id INTEGER PRIMARY KEY); PRAGMA user_version = 99;");
        assert_refused_untouched(fixture->path, -EPROTONOSUPPORT);
}

static void test_refuses_foreign_database(void **state) {
        Fixture *fixture = *state;

        exec_sql(fixture->path, "CREATE TABLE invoices (number INTEGER); INSERT INTO invoices VALUES (1);");
        assert_refused_untouched(fixture->path, -EBADMSG);
}

static void test_missing_directory_is_an_error(void **state) {
        Fixture *fixture = *state;
        Store *store = NULL;
        char path[160];

        snprintf(path, sizeof(path), "%s/missing/sessions.db", fixture->directory);
        assert_true(store_open(path, &store) < 0);
        assert_null(store);
}

static void test_bind_values(void **state) {
        Fixture *fixture = *state;
        _cleanup_(store_freep) Store *store = NULL;
        sqlite3_stmt *statement = NULL;

        assert_int_equal(store_open(fixture->path, &store), 0);
        assert_int_equal(sqlite3_prepare_v2(store->database, "SELECT ?1, typeof(?1), ?2, typeof(?2), typeof(?3);", -1,
                                            &statement, NULL), SQLITE_OK);

        /* Each value lands at its place with its kind; a NULL text is SQL NULL. */
        assert_int_equal(store_bind(store, statement, bind_int(-42), bind_text("pts/3"), bind_text(NULL)), 0);
        assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int64(statement, 0), -42);
        assert_string_equal((const char *) sqlite3_column_text(statement, 1), "integer");
        assert_string_equal((const char *) sqlite3_column_text(statement, 2), "pts/3");
        assert_string_equal((const char *) sqlite3_column_text(statement, 3), "text");
        assert_string_equal((const char *) sqlite3_column_text(statement, 4), "null");
        sqlite3_reset(statement);

        /* From a later place, and a value past the last parameter is an error. */
        assert_int_equal(store_bind_from(store, statement, 3, bind_int(7)), 0);
        assert_int_equal(store_bind_from(store, statement, 3, bind_int(7), bind_int(8)), -EIO);

        sqlite3_finalize(statement);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_add_list_get_end, setup, teardown),
                cmocka_unit_test_setup_teardown(test_records_survive_reopen, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rollback_discards, setup, teardown),
                cmocka_unit_test_setup_teardown(test_logind_lifecycle, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refused_revocation_is_forgotten, setup, teardown),
                cmocka_unit_test_setup_teardown(test_previous_boots_are_closed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_find_by_logind_session, setup, teardown),
                cmocka_unit_test_setup_teardown(test_migrates_version_1, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refuses_corrupt_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refuses_damaged_database, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refuses_newer_schema, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refuses_foreign_database, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing_directory_is_an_error, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bind_values, setup, teardown),
        };

        /* The store explains refusals on stderr; keep the test output to the verdicts. */
        log_set_max_level(getenv("TEST_VERBOSE") ? LOG_DEBUG : -1);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
