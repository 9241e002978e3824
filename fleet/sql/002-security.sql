-- SPDX-License-Identifier: LGPL-2.1-or-later
-- sessmgr fleet schema, version 2: one role per machine and row-level security.
-- A machine's agent logs in as its own role, a member of sessmgr_machine. It may write
-- only its own machine's rows, ask for revocations only in its own name, and finish only
-- the requests addressed to it. The DBA (the role that owns the schema) adds machines
-- with sessmgr.add_machine() and alone sets the admin flag. docs/FLEET.md has the trust
-- model: what a machine whose root is compromised can and cannot do.

-- Roles belong to the whole cluster, not to one database: another sessmgr database on
-- the same server shares the group.
DO $$
BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sessmgr_machine') THEN
                CREATE ROLE sessmgr_machine NOLOGIN;
        END IF;
END
$$;

-- The machine the current role is, or NULL for any other role (the DBA's).
CREATE FUNCTION sessmgr.my_machine_id() RETURNS text
        LANGUAGE sql STABLE PARALLEL SAFE
        SET search_path = pg_catalog, pg_temp
        AS $$ SELECT machine_id FROM sessmgr.machines WHERE role_name = current_user $$;

GRANT USAGE ON SCHEMA sessmgr TO sessmgr_machine;
-- Functions are executable by PUBLIC unless revoked: only these, and only for machines.
-- (Trigger functions need no grant: they run whoever fires them.)
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA sessmgr FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sessmgr.my_machine_id(), sessmgr.from_usec(bigint), sessmgr.channel(text)
        TO sessmgr_machine;

-- machines: every machine reads every row (host names for list --fleet, the stale
-- marking); a machine updates only its own report, never its name, role or admin flag.
ALTER TABLE sessmgr.machines ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON sessmgr.machines TO sessmgr_machine;
GRANT UPDATE (last_sync, synced_cursor, synced_feed) ON sessmgr.machines TO sessmgr_machine;
CREATE POLICY machines_read ON sessmgr.machines FOR SELECT TO sessmgr_machine USING (true);
CREATE POLICY machines_report ON sessmgr.machines FOR UPDATE TO sessmgr_machine
        USING (role_name = current_user) WITH CHECK (role_name = current_user);

-- last_sync is the server's clock whenever a machine reports: a machine cannot make
-- itself look fresh for longer than it actually is.
CREATE FUNCTION sessmgr.machine_report() RETURNS trigger
        LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
        IF OLD.role_name = current_user THEN
                NEW.last_sync := now();
        END IF;
        RETURN NEW;
END
$$;
CREATE TRIGGER machines_report BEFORE UPDATE ON sessmgr.machines
        FOR EACH ROW EXECUTE FUNCTION sessmgr.machine_report();

-- sessions: every machine reads every row (see docs/FLEET.md: which user may see what is
-- decided by the agent, by peer credentials, as sessmgrd does locally; the database
-- cannot tell users apart). A machine writes and deletes (history retention) only its own.
ALTER TABLE sessmgr.sessions ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON sessmgr.sessions TO sessmgr_machine;
CREATE POLICY sessions_read ON sessmgr.sessions FOR SELECT TO sessmgr_machine USING (true);
-- The scalar subquery is computed once per statement (an InitPlan), not once per row.
CREATE POLICY sessions_insert_own ON sessmgr.sessions FOR INSERT TO sessmgr_machine
        WITH CHECK (machine_id = (SELECT sessmgr.my_machine_id()));
CREATE POLICY sessions_update_own ON sessmgr.sessions FOR UPDATE TO sessmgr_machine
        USING (machine_id = (SELECT sessmgr.my_machine_id()))
        WITH CHECK (machine_id = (SELECT sessmgr.my_machine_id()));
CREATE POLICY sessions_delete_own ON sessmgr.sessions FOR DELETE TO sessmgr_machine
        USING (machine_id = (SELECT sessmgr.my_machine_id()));

-- revocations: a machine sees the requests it made, those addressed to it, and (admin
-- machines) all; it inserts only requests stamped with its own machine, and on those
-- addressed to it may only set the outcome, once. Nobody but the DBA deletes one: the
-- requests are the audit trail of who ended what.
ALTER TABLE sessmgr.revocations ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON sessmgr.revocations TO sessmgr_machine;
GRANT INSERT (target_machine_id, target_boot_id, target_session_id, target_user_name, requester_machine_id,
              requester_user_name, requester_uid, requester_session_id, requester_address, expires_at)
        ON sessmgr.revocations TO sessmgr_machine;
GRANT UPDATE (state, outcome) ON sessmgr.revocations TO sessmgr_machine;
CREATE POLICY revocations_read ON sessmgr.revocations FOR SELECT TO sessmgr_machine
        USING (requester_machine_id = (SELECT sessmgr.my_machine_id())
               OR target_machine_id = (SELECT sessmgr.my_machine_id())
               OR (SELECT admin FROM sessmgr.machines WHERE role_name = current_user));
CREATE POLICY revocations_request ON sessmgr.revocations FOR INSERT TO sessmgr_machine
        WITH CHECK (requester_machine_id = (SELECT sessmgr.my_machine_id()));
CREATE POLICY revocations_answer ON sessmgr.revocations FOR UPDATE TO sessmgr_machine
        USING (target_machine_id = (SELECT sessmgr.my_machine_id()))
        WITH CHECK (target_machine_id = (SELECT sessmgr.my_machine_id()));

-- What the database checks of a new request, whoever makes it. Runs with the rights of
-- the schema's owner (SECURITY DEFINER) so that the checks see every row whatever the
-- policies above let the requester read.
CREATE FUNCTION sessmgr.revocation_check() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        requester sessmgr.machines;
        target sessmgr.sessions;
BEGIN
        -- Made by the server, never taken from the requester.
        NEW.created_at := now();
        NEW.state := 'pending';
        NEW.outcome := NULL;
        NEW.finished_at := NULL;

        SELECT * INTO requester FROM sessmgr.machines WHERE machine_id = NEW.requester_machine_id;
        NEW.requester_host_name := requester.host_name;

        IF NEW.expires_at <= now() OR NEW.expires_at > now() + interval '7 days' THEN
                RAISE EXCEPTION 'sessmgr: a revocation request must expire within 7 days from now (asked: %)',
                        NEW.expires_at USING ERRCODE = 'check_violation';
        END IF;

        SELECT * INTO target FROM sessmgr.sessions
                WHERE machine_id = NEW.target_machine_id AND boot_id = NEW.target_boot_id
                      AND session_id = NEW.target_session_id;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'sessmgr: no session % (boot %) on machine %', NEW.target_session_id,
                        NEW.target_boot_id, NEW.target_machine_id USING ERRCODE = 'foreign_key_violation';
        END IF;
        IF target.user_name <> NEW.target_user_name THEN
                RAISE EXCEPTION 'sessmgr: session % on machine % belongs to another user than %',
                        NEW.target_session_id, NEW.target_machine_id, NEW.target_user_name
                        USING ERRCODE = 'insufficient_privilege';
        END IF;
        -- Ending another user's sessions is root's, and only from an admin machine.
        IF NEW.requester_user_name <> NEW.target_user_name AND NOT (requester.admin AND NEW.requester_uid = 0) THEN
                RAISE EXCEPTION 'sessmgr: % on % may not end sessions of %: only root on an admin machine may',
                        NEW.requester_user_name, requester.host_name, NEW.target_user_name
                        USING ERRCODE = 'insufficient_privilege';
        END IF;
        -- Root's sessions only from an admin machine: an ordinary machine, even with its
        -- root compromised, cannot log the fleet's administrators out.
        IF target.uid = 0 AND NOT requester.admin THEN
                RAISE EXCEPTION 'sessmgr: sessions of root may be ended only from an admin machine'
                        USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF target.state = 'closed' THEN
                NEW.state := 'gone';
                NEW.outcome := 'the session had already ended';
                NEW.finished_at := now();
        END IF;
        RETURN NEW;
END
$$;
CREATE TRIGGER revocations_check BEFORE INSERT ON sessmgr.revocations
        FOR EACH ROW EXECUTE FUNCTION sessmgr.revocation_check();

-- A request is finished once: its outcome cannot be rewritten afterwards.
CREATE FUNCTION sessmgr.revocation_finish() RETURNS trigger
        LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
        IF OLD.state <> 'pending' THEN
                RAISE EXCEPTION 'sessmgr: revocation request % has already finished (%)', OLD.id, OLD.state
                        USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.state = 'pending' THEN
                RAISE EXCEPTION 'sessmgr: revocation request % may only be finished (done, refused, expired, gone)',
                        OLD.id USING ERRCODE = 'check_violation';
        END IF;
        NEW.finished_at := now();
        RETURN NEW;
END
$$;
CREATE TRIGGER revocations_finish BEFORE UPDATE ON sessmgr.revocations
        FOR EACH ROW EXECUTE FUNCTION sessmgr.revocation_finish();

-- Pending requests past their time, marked expired. The agents of the targets do it for
-- their own; this is for a machine that never comes back (run by the DBA or cron).
CREATE FUNCTION sessmgr.expire_revocations() RETURNS bigint
        LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
        WITH expired AS (
                UPDATE sessmgr.revocations SET state = 'expired', outcome = 'expired before its machine took it'
                        WHERE state = 'pending' AND expires_at < now() RETURNING 1)
        SELECT count(*) FROM expired
$$;

-- For the DBA: registers a machine and creates its login role (or takes an existing
-- one, e.g. made for certificate authentication), member of sessmgr_machine. Needs
-- CREATEROLE. Set the credential afterwards: \password ROLE in psql, or a client
-- certificate whose CN is the role name (docs/FLEET.md). Returns the role's name.
CREATE FUNCTION sessmgr.add_machine(machine_id text, host_name text, admin boolean DEFAULT false,
                                    role_name text DEFAULT NULL) RETURNS name
        LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        role name := coalesce(add_machine.role_name, 'sessmgr_' || add_machine.machine_id);
BEGIN
        IF add_machine.machine_id IS NULL OR add_machine.machine_id !~ '^[0-9a-f]{32}$' THEN
                RAISE EXCEPTION 'sessmgr: a machine id is the 32 lower-case hex digits of /etc/machine-id, not "%"',
                        add_machine.machine_id;
        END IF;
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role) THEN
                -- A few connections are all an agent needs; the limit keeps a compromised
                -- machine from taking the server's connection slots.
                EXECUTE format('CREATE ROLE %I LOGIN CONNECTION LIMIT 4', role);
        END IF;
        EXECUTE format('GRANT sessmgr_machine TO %I', role);
        INSERT INTO sessmgr.machines (machine_id, host_name, role_name, admin)
                VALUES (add_machine.machine_id, add_machine.host_name, role, add_machine.admin);
        RETURN role;
END
$$;

-- For the DBA: forgets a machine, its sessions and the requests made by or for it, and
-- drops its role. To stop a machine at once without losing its trail, ALTER ROLE ...
-- NOLOGIN instead (docs/FLEET.md).
CREATE FUNCTION sessmgr.remove_machine(machine_id text) RETURNS void
        LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        role name;
BEGIN
        DELETE FROM sessmgr.machines m WHERE m.machine_id = remove_machine.machine_id RETURNING m.role_name INTO role;
        IF role IS NULL THEN
                RAISE EXCEPTION 'sessmgr: no machine %', remove_machine.machine_id;
        END IF;
        EXECUTE format('DROP ROLE IF EXISTS %I', role);
END
$$;

REVOKE EXECUTE ON FUNCTION sessmgr.add_machine(text, text, boolean, text), sessmgr.remove_machine(text),
        sessmgr.expire_revocations() FROM PUBLIC;

INSERT INTO sessmgr.schema_migrations (version, name) VALUES (2, '002-security');
