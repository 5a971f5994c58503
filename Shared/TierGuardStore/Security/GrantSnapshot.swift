import Postgres

/// The live privileges of the `tierguard_*` roles as sorted text lines, compared by SecurityTests with
/// the checked-in snapshot so that a widened grant fails CI (issue 11, "least privilege").
///
/// Table-level grants come from `information_schema.role_table_grants`. Column-level grants come from
/// `pg_attribute.attacl` rather than `information_schema.role_column_grants`, because the latter also
/// lists every column covered by a table-level grant, which would repeat each table grant per column and
/// hide the few column grants that matter (the notifier's and scorer's `customers` columns).
/// Function grants: `routine <role> <function> EXECUTE` from `information_schema.role_routine_grants` (e.g. the
/// notifier's `tierguard_birthday_sms_recipient`, migration 0008), and `definer-public <function>` for any
/// SECURITY DEFINER function PUBLIC may still execute (a forgotten `REVOKE … FROM PUBLIC`).
/// Row-level security policies are listed too (`policy …`, whitespace folded to one line): a policy widened
/// to `true` is a widened grant.
public enum GrantSnapshot {
    static let tableGrants = PostgresQuery("""
        SELECT 'table ' || grantee || ' ' || table_name || ' ' || privilege_type
        FROM information_schema.role_table_grants
        WHERE grantee LIKE 'tierguard\\_%' AND table_schema = 'public'
        """, name: "GrantSnapshot.tables")
    static let columnGrants = PostgresQuery("""
        SELECT 'column ' || r.rolname || ' ' || c.relname || '.' || a.attname || ' ' || acl.privilege_type
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
        CROSS JOIN LATERAL aclexplode(a.attacl) acl
        JOIN pg_roles r ON r.oid = acl.grantee
        WHERE a.attacl IS NOT NULL AND NOT a.attisdropped AND r.rolname LIKE 'tierguard\\_%'
        """, name: "GrantSnapshot.columns")
    static let routineGrants = PostgresQuery("""
        SELECT 'routine ' || grantee || ' ' || routine_name || ' ' || privilege_type
        FROM information_schema.role_routine_grants
        WHERE grantee LIKE 'tierguard\\_%' AND routine_schema = 'public'
        UNION ALL
        SELECT 'definer-public ' || p.proname
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace AND n.nspname = 'public'
        CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) acl
        WHERE p.prosecdef AND acl.grantee = 0 AND acl.privilege_type = 'EXECUTE'
        """, name: "GrantSnapshot.routines")
    static let policies = PostgresQuery("""
        SELECT 'policy ' || tablename || ' ' || policyname || ' ' || cmd || ' ' || array_to_string(roles, ',')
               || ' using ' || regexp_replace(coalesce(qual, '-'), '\\s+', ' ', 'g')
               || ' check ' || regexp_replace(coalesce(with_check, '-'), '\\s+', ' ', 'g')
        FROM pg_policies WHERE schemaname = 'public'
        """, name: "GrantSnapshot.policies")

    /// One line per privilege, sorted (byte order), joined with newlines.
    public static func current(_ session: PostgresSession) throws -> String {
        var lines: [String] = []
        for query in [tableGrants, columnGrants, routineGrants, policies] {
            for row in try session.query(query) { lines.append(try row.decode(String.self, at: 0)) }
        }
        return lines.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }.joined(separator: "\n")
    }
}
