-- Login users for the per-service roles (issue 11, least privilege; deploy/SECURITY.md "Service logins").
--
-- The roles of 0005 are NOLOGIN groups; each deployed service connects as its own login user that is a
-- member of exactly one of them (tierguardctl migrate with TIERGUARD_SERVICE_LOGINS, run by the migration
-- job as the owning role). Role settings (statement_timeout, lock_timeout,
-- idle_in_transaction_session_timeout) apply only to the role that logs in, not to the groups it belongs to,
-- so the group's settings are copied onto the login every time it is ensured.
--
-- SECURITY INVOKER on purpose: creating a role needs CREATEROLE, which only the migrating owner has; no
-- service role may execute this.
CREATE FUNCTION tierguard_ensure_service_login(login text, member_of text, password text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
    setting text;
BEGIN
    IF member_of NOT IN ('tierguard_ingest', 'tierguard_scorer', 'tierguard_notifier', 'tierguard_feedback',
                         'tierguard_operator', 'tierguard_rm') THEN
        RAISE EXCEPTION 'service login %: % is not a TierGuard service role', login, member_of
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF login !~ '^[a-z_][a-z0-9_]{0,62}$' OR login LIKE 'pg\_%'
       OR login IN ('tierguard_ingest', 'tierguard_scorer', 'tierguard_notifier', 'tierguard_feedback',
                    'tierguard_operator', 'tierguard_rm') THEN
        RAISE EXCEPTION 'service login name % is not allowed (lower-case letters, digits, _; not a pg_ or group role name)', login
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF coalesce(length(password), 0) < 16 THEN
        RAISE EXCEPTION 'the password of service login % is shorter than 16 characters', login
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = login AND (rolsuper OR rolcreaterole OR rolbypassrls)) THEN
        RAISE EXCEPTION 'role % exists with SUPERUSER, CREATEROLE or BYPASSRLS; refusing to make it a service login', login
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = login) THEN
        EXECUTE format('ALTER ROLE %I LOGIN NOCREATEDB PASSWORD %L', login, password);
    ELSE
        EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS INHERIT PASSWORD %L',
                       login, password);
    END IF;
    EXECUTE format('GRANT %I TO %I', member_of, login);
    FOR setting IN
        SELECT unnest(s.setconfig) FROM pg_db_role_setting s
        WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = member_of) AND s.setdatabase = 0
    LOOP
        EXECUTE format('ALTER ROLE %I SET %I = %L', login, split_part(setting, '=', 1),
                       substr(setting, length(split_part(setting, '=', 1)) + 2));
    END LOOP;
END $$;
REVOKE ALL ON FUNCTION tierguard_ensure_service_login(text, text, text) FROM PUBLIC;

-- Every service reads the migration record: start-up with TIERGUARD_MIGRATE=off waits on it, and /readyz
-- reports pending migrations from it.
GRANT SELECT ON schema_migrations TO tierguard_ingest, tierguard_scorer, tierguard_notifier, tierguard_feedback,
    tierguard_operator;

-- The scorer runs the retention purge (0007, RetentionPurge): it deletes score, tier-history and alert rows
-- past the retention period and records each purge.
GRANT DELETE ON customer_scores, alerts TO tierguard_scorer;
GRANT SELECT, INSERT ON retention_purges TO tierguard_scorer;
GRANT USAGE ON SEQUENCE retention_purges_id_seq TO tierguard_scorer;
