-- SPDX-License-Identifier: LGPL-2.1-or-later
-- sessmgr fleet schema, version 1: machines, their sessions, revocation requests.
-- Applied by migrate.psql (or sessmgr-fleet --init) inside one transaction, once: never
-- edit a migration that has shipped, add the next one. Needs PostgreSQL 13 or newer and
-- a UTF8 database. Times are timestamptz; sessmgr's local stores count microseconds
-- since the epoch, sessmgr.from_usec() converts (0, "unknown", becomes NULL).

DO $$
BEGIN
        IF current_setting('server_version_num')::int < 130000 THEN
                RAISE EXCEPTION 'sessmgr: the fleet schema needs PostgreSQL 13 or newer, this server is %',
                        current_setting('server_version');
        END IF;
        IF getdatabaseencoding() <> 'UTF8' THEN
                RAISE EXCEPTION 'sessmgr: the fleet database must be UTF8 (CREATE DATABASE ... ENCODING ''UTF8''), this one is %',
                        getdatabaseencoding();
        END IF;
END
$$;

CREATE SCHEMA sessmgr;

CREATE TABLE sessmgr.schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION sessmgr.from_usec(usec bigint) RETURNS timestamptz
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$ SELECT CASE WHEN usec = 0 THEN NULL ELSE 'epoch'::timestamptz + usec * interval '1 microsecond' END $$;

-- Text written by one machine is read on the terminals of others. sessmgrd stores text
-- escaped (sessmgrd(8)), so an honest machine never sends what this refuses: C0, DEL, C1,
-- the soft hyphen, zero-width, bidi and other format characters, line and paragraph
-- separators (the main ranges of common/text.c). Readers escape all the same.
CREATE DOMAIN sessmgr.safe_text AS text
        CHECK (octet_length(VALUE) <= 1024
               AND VALUE !~ '[\x01-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]');

-- 32 lower-case hex digits: /etc/machine-id, /proc/sys/kernel/random/boot_id without dashes.
CREATE DOMAIN sessmgr.hex_id AS text CHECK (VALUE ~ '^[0-9a-f]{32}$');

CREATE TABLE sessmgr.machines (
        machine_id sessmgr.hex_id PRIMARY KEY,
        -- Set by the DBA, as a certificate's name would be: a machine cannot rename itself
        -- to look like another in list --fleet or in "revoked by session N on HOST".
        host_name sessmgr.safe_text NOT NULL UNIQUE,
        -- The PostgreSQL role this machine's agent logs in as (one role per machine).
        role_name name NOT NULL UNIQUE,
        -- Root there may ask for other users' sessions to end (--fleet --user, --all).
        admin boolean NOT NULL DEFAULT false,
        -- When the machine last reported in (server clock), and the position of its local
        -- change feed up to which everything is in sessmgr.sessions: the agent resumes there.
        last_sync timestamptz,
        synced_cursor bigint NOT NULL DEFAULT 0 CHECK (synced_cursor >= 0),
        -- The identity of the local change feed synced_cursor counts in (sessmgrd(8),
        -- GetChanges). sessmgrd numbers its records anew under a new identity (the feed
        -- turned off and on, a new local database): the agent then starts again from 0,
        -- and resets this machine's change_cursor in the same transaction.
        synced_feed sessmgr.hex_id,
        added_at timestamptz NOT NULL DEFAULT now()
);

-- One row per session of every machine, the mirror of sessmgrd's local record
-- (common/record.h, sessmgrd/store-schema.c). The key is the one the local store gives a
-- session, so every push is an upsert: re-sending a change cannot double a row.
CREATE TABLE sessmgr.sessions (
        machine_id sessmgr.hex_id NOT NULL REFERENCES sessmgr.machines ON DELETE CASCADE,
        boot_id sessmgr.hex_id NOT NULL,
        session_id bigint NOT NULL CHECK (session_id > 0),
        -- The local change feed's position of the change this row reflects. An upsert
        -- applies only a newer change, so one re-sent or arriving late is a no-op.
        -- 0: not sent again since the local feed was renumbered (see synced_feed).
        change_cursor bigint NOT NULL CHECK (change_cursor >= 0),
        logind_session sessmgr.safe_text,
        uid bigint NOT NULL CHECK (uid BETWEEN 0 AND 4294967294),
        -- Identity across machines: one user directory for the whole fleet.
        user_name sessmgr.safe_text NOT NULL,
        service sessmgr.safe_text,
        tty sessmgr.safe_text,
        seat sessmgr.safe_text,
        vt integer NOT NULL DEFAULT 0 CHECK (vt >= 0),
        remote_host sessmgr.safe_text,
        remote_address sessmgr.safe_text,
        remote_port integer NOT NULL DEFAULT 0 CHECK (remote_port BETWEEN 0 AND 65535),
        leader_pid bigint NOT NULL DEFAULT 0 CHECK (leader_pid >= 0),
        login_time timestamptz NOT NULL,
        last_active timestamptz,
        last_active_source sessmgr.safe_text,
        state text NOT NULL CHECK (state IN ('active', 'closing', 'closed')),
        end_time timestamptz,
        end_reason sessmgr.safe_text,
        origin sessmgr.safe_text,
        ttys sessmgr.safe_text,
        auth_method sessmgr.safe_text,
        auth_key sessmgr.safe_text,
        display sessmgr.safe_text,
        desktop sessmgr.safe_text,
        parent_id bigint NOT NULL DEFAULT 0 CHECK (parent_id >= 0),
        -- Server clock of the last change received.
        synced_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (machine_id, boot_id, session_id)
)
-- Most changes are activity (last_active, the cursor), which no index covers: room left on
-- each page lets such an update stay on its page (a HOT update), without index writes.
WITH (fillfactor = 80);

-- list --fleet: one user's open sessions on every machine.
CREATE INDEX sessions_open_by_user ON sessmgr.sessions (user_name) WHERE state <> 'closed';
-- history --fleet: one user's ended sessions, newest first.
CREATE INDEX sessions_history_by_user ON sessmgr.sessions (user_name, end_time) WHERE state = 'closed';

CREATE TABLE sessmgr.revocations (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        -- The session to end, by its key in sessmgr.sessions, and its user (checked
        -- against that row when the request is made, and again by the target's sessmgrd).
        target_machine_id sessmgr.hex_id NOT NULL REFERENCES sessmgr.machines ON DELETE CASCADE,
        target_boot_id sessmgr.hex_id NOT NULL,
        target_session_id bigint NOT NULL,
        target_user_name sessmgr.safe_text NOT NULL,
        -- Who asks: the machine (always the role's own, the database sees to it), and what
        -- that machine says of the asker: a user name ("root" for root), the session it
        -- asked from and where that session came from.
        requester_machine_id sessmgr.hex_id NOT NULL REFERENCES sessmgr.machines ON DELETE CASCADE,
        requester_user_name sessmgr.safe_text NOT NULL,
        requester_uid bigint NOT NULL CHECK (requester_uid BETWEEN 0 AND 4294967294),
        requester_session_id bigint NOT NULL DEFAULT 0 CHECK (requester_session_id >= 0),
        requester_address sessmgr.safe_text,
        -- Copied from sessmgr.machines when the request is made, never taken from the requester.
        requester_host_name sessmgr.safe_text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        state text NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'done', 'refused', 'expired', 'gone')),
        outcome sessmgr.safe_text,
        finished_at timestamptz,
        CHECK (expires_at > created_at),
        CHECK ((state = 'pending') = (finished_at IS NULL))
);

-- A target's agent picks up its pending requests (on NOTIFY, and when it polls or reconnects).
CREATE INDEX revocations_pending_by_target ON sessmgr.revocations (target_machine_id) WHERE state = 'pending';
-- A requester's agent reads the outcomes of what it asked.
CREATE INDEX revocations_by_requester ON sessmgr.revocations (requester_machine_id, id);

-- Each machine LISTENs on its own channel. "revoke ID" tells a target there is a request
-- for it; "outcome ID" tells a requester one of its requests has finished. Only the id
-- travels: anyone may LISTEN on any channel, the rows themselves are behind row-level
-- security. NOTIFY is sent at commit, never for a transaction rolled back.
CREATE FUNCTION sessmgr.channel(machine_id text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$ SELECT 'sessmgr_' || machine_id $$;

CREATE FUNCTION sessmgr.revocation_notify() RETURNS trigger
        LANGUAGE plpgsql AS $$
BEGIN
        IF TG_OP = 'INSERT' THEN
                -- A request for a session already ended is finished at once (see 002).
                IF NEW.state = 'pending' THEN
                        PERFORM pg_notify(sessmgr.channel(NEW.target_machine_id), 'revoke ' || NEW.id);
                END IF;
                RETURN NULL;
        END IF;
        IF OLD.state = 'pending' AND NEW.state <> 'pending' THEN
                PERFORM pg_notify(sessmgr.channel(NEW.requester_machine_id), 'outcome ' || NEW.id);
        END IF;
        RETURN NULL;
END
$$;

CREATE TRIGGER revocations_notify AFTER INSERT OR UPDATE OF state ON sessmgr.revocations
        FOR EACH ROW EXECUTE FUNCTION sessmgr.revocation_notify();

INSERT INTO sessmgr.schema_migrations (version, name) VALUES (1, '001-schema');
