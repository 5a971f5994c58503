import Foundation
import Postgres
import TestSupport
import Testing

/// `tierguardctl` run as an operator's own login (a member of `tierguard_operator`, made by
/// `tierguardctl migrate` with `TIERGUARD_SERVICE_LOGINS`), not as the owner: every command an operator
/// uses, each checked for exit 0 and for its effect in the database. `migrate` is the owner's job and is
/// refused with a message that says so. The grants this needed are in migration 0014.
@Suite struct OperatorLoginTests {
    static func scalar<T: PostgresDecodable>(_ session: PostgresSession, _ type: T.Type, _ query: PostgresQuery) throws -> T {
        try session.query(query)[0].decode(T.self, at: 0)
    }

    @Test func everyOperatorCommandRunsAsTheOperatorLoginAndMigrateIsRefused() throws {
        let db = try TestDatabase.create()
        let dir = NSTemporaryDirectory() + "operator-login-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Logins are cluster-wide: a unique name per run, since tests share the cluster.
        let suffix = String(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(8)).lowercased()
        let login = "operator_\(suffix)", password = "staple-battery-\(suffix)-horse"
        try (password + "\n").write(toFile: dir + "/operator", atomically: true, encoding: .utf8)

        // The owner migrates and creates the operator's login (the migration job).
        let migrate = try ServiceProcess.run("tierguardctl", ["migrate"], environment: [
            "DATABASE_URL": db.url, "TIERGUARD_SERVICE_LOGINS": "operator=\(login):\(dir)/operator"])
        #expect(migrate.status == 0, "\(migrate.stderr)")
        #expect(migrate.stdout.contains("service login \(login) ensured (member of tierguard_operator)"), "\(migrate.stdout)")

        let operatorEnvironment = [
            "DATABASE_URL": ServiceLoginTests.url(db.url, login: login, password: password),
            "TIERGUARD_OPERATOR": "alice", "TIERGUARD_LOG_LEVEL": "error"]
        /// Runs `tierguardctl ARGS` as the operator's login; expects `status`.
        @discardableResult
        func ctl(_ arguments: [String], status: Int32 = 0, environment: [String: String] = [:],
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
            let run = try ServiceProcess.run("tierguardctl", arguments,
                                             environment: operatorEnvironment.merging(environment) { $1 })
            #expect(run.status == status, "tierguardctl \(arguments.joined(separator: " ")): exit \(run.status)\n\(run.stdout)\n\(run.stderr)",
                    sourceLocation: sourceLocation)
            return run.stdout
        }

        // generate needs no database: it works whatever DATABASE_URL says.
        let generated = try ctl(["generate", "--customers", "30", "--days", "70", "--out", dir + "/feed"])
        #expect(generated.contains("records: 30 customers"), "\(generated)")
        // The feed is loaded by the owner here (the ingest login in production: ServiceLoginTests).
        let ingest = try ServiceProcess.run("tierguard-ingest", ["load", dir + "/feed/feed.ndjson"],
                                            environment: ["DATABASE_URL": db.url, "TIERGUARD_MIGRATE": "off"])
        #expect(ingest.status == 0, "\(ingest.stderr)")

        let s = try db.session()
        defer { s.close() }
        let customers = try s.query("SELECT customer_id FROM customers ORDER BY customer_id LIMIT 3").map { try $0.decode(String.self, at: 0) }
        try #require(customers.count == 3)
        let (first, second, third) = (customers[0], customers[1], customers[2])

        // migrate: the owner's job. Refused with what, why and what to do; --status stays open.
        let refused = try ServiceProcess.run("tierguardctl", ["migrate"], environment: operatorEnvironment)
        #expect(refused.status == 78, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.stderr.contains("refusing to migrate as \"\(login)\" (member of tierguard_operator)"), "\(refused.stderr)")
        #expect(refused.stderr.contains("the owner's job") && refused.stderr.contains("migrate --status"), "\(refused.stderr)")
        #expect(try ctl(["migrate", "--status"]).contains("up to date"))

        // jobs: read-only views, then every operator action, each audited with the operator's name.
        #expect(try ctl(["jobs"]).contains("score_customer"))
        #expect(try ctl(["jobs", "list", "--queue", "scorer", "--limit", "5"]).contains("5 job(s) shown"))
        let jobs = try s.query("SELECT id FROM tg_jobs WHERE queue = 'scorer' AND state = 'available' ORDER BY id LIMIT 2")
            .map { try $0.decode(Int64.self, at: 0) }
        try #require(jobs.count == 2)
        #expect(try ctl(["jobs", "show", String(jobs[0])]).contains("score_customer"))
        #expect(try ctl(["jobs", "workers"]).contains("0 worker(s)"))
        func jobState(_ id: Int64) throws -> String {
            try Self.scalar(s, String.self, PostgresQuery("SELECT state::text FROM tg_jobs WHERE id = $1").binding(id))
        }
        try ctl(["jobs", "pause", "scorer", "--reason", "operator test"])
        #expect(try Self.scalar(s, Bool.self, "SELECT paused FROM tg_queues WHERE queue = 'scorer'"))
        try ctl(["jobs", "resume", "scorer", "--reason", "operator test"])
        #expect(try !Self.scalar(s, Bool.self, "SELECT paused FROM tg_queues WHERE queue = 'scorer'"))
        try ctl(["jobs", "cancel", String(jobs[0]), "--reason", "operator test"])
        #expect(try jobState(jobs[0]) == "cancelled")
        try ctl(["jobs", "retry", String(jobs[0]), "--reason", "operator test"])
        #expect(try jobState(jobs[0]) == "available")
        try ctl(["jobs", "discard", String(jobs[1]), "--reason", "operator test"])
        #expect(try jobState(jobs[1]) == "discarded")
        #expect(try ctl(["jobs", "retry", "--discarded", "--queue", "scorer", "--reason", "operator test"]).contains("retried 1 job(s)"))
        #expect(try jobState(jobs[1]) == "available")
        #expect(try Self.scalar(s, Int.self, "SELECT count(*) FROM tg_job_operator_actions WHERE operator = 'alice'") == 6)

        // rejects: masked, pending, and unmasked with an audit row written by this login.
        #expect(try ctl(["rejects"]).contains("reject(s) shown"))
        #expect(try ctl(["rejects", "--pending"]).contains("pending record(s) shown"))
        #expect(try ctl(["rejects", "--unmask", "--reason", "ticket 42: disputed line", "--limit", "3"]).contains("3 reject(s) shown"))
        #expect(try Self.scalar(s, Int.self, PostgresQuery("""
            SELECT count(*) FROM pii_access_audit WHERE db_user = $1 AND operator = 'alice' AND command LIKE 'rejects --unmask%'
            """).binding(login)) == 1)

        // rescore: the book, an earlier business date (alerts resolve), the book again (they reopen), one customer.
        #expect(try ctl(["rescore", "--all"]).contains("rescored 30 customers on business date 2026-11-30"))
        #expect(try Self.scalar(s, Int.self, "SELECT count(DISTINCT customer_id) FROM customer_scores") == 30)
        #expect(try Self.scalar(s, Int.self, "SELECT count(*) FROM alerts") > 0)
        #expect(try Self.scalar(s, Int.self, "SELECT count(*) FROM customer_tier_history") > 0)
        #expect(try Self.scalar(s, Int.self, "SELECT count(*) FROM scoring_policies WHERE active") == 1)
        #expect(try ctl(["rescore", "--all"], environment: ["TIERGUARD_BUSINESS_DATE": "2026-10-31"])
            .contains("business date 2026-10-31"))
        try ctl(["rescore", "--all"])
        let before = try Self.scalar(s, Int.self, PostgresQuery("SELECT count(*) FROM customer_scores WHERE customer_id = $1").binding(first))
        #expect(try ctl(["rescore", first]).contains("\(first): "))
        #expect(try Self.scalar(s, Int.self, PostgresQuery("SELECT count(*) FROM customer_scores WHERE customer_id = $1").binding(first)) == before + 1)

        // customer show (masked, JSON, unmasked and audited) and explain.
        #expect(try ctl(["customer", "show", first]).contains("业务日期 2026-11-30"))
        #expect(try ctl(["customer", "show", first, "--json"]).contains("\"tier_history\""))
        try ctl(["customer", "show", first, "--unmask", "--reason", "ticket 43: customer called"])
        #expect(try Self.scalar(s, Int.self, PostgresQuery("""
            SELECT count(*) FROM pii_access_audit WHERE db_user = $1 AND command = 'customer show' AND customer_ids = ARRAY[$2::text]
            """).binding(login, first)) == 1)
        #expect(try ctl(["customer", "explain", first]).contains("自动化评估说明"))

        // profiling: the refusal through the feedback service's preference path, then consent again.
        try ctl(["profiling", second, "--refuse", "--reason", "asked at the branch counter"])
        #expect(try Self.scalar(s, Bool.self, PostgresQuery(
            "SELECT automated_profiling_refused FROM customer_preferences WHERE customer_id = $1").binding(second)))
        #expect(try Self.scalar(s, Int.self, PostgresQuery("""
            SELECT count(*) FROM preference_events WHERE customer_id = $1 AND reason = 'asked at the branch counter'
              AND source = 'tierguardctl/alice'
            """).binding(second)) == 1)
        #expect(try Self.scalar(s, Int.self, PostgresQuery("""
            SELECT count(*) FROM tg_jobs WHERE kind = 'score_customer' AND unique_key = 'score:' || $1 AND state = 'available'
            """).binding(second)) == 1)
        try ctl(["profiling", second, "--allow", "--reason", "consented again by phone"])
        #expect(try !Self.scalar(s, Bool.self, PostgresQuery(
            "SELECT automated_profiling_refused FROM customer_preferences WHERE customer_id = $1").binding(second)))

        // customer erase: a closed customer (closed by the owner here, by a feed in production).
        try s.execute(PostgresQuery("UPDATE customers SET status = 'closed' WHERE customer_id = $1").binding(third))
        #expect(try ctl(["customer", "erase", third, "--reason", "account closed, PIPL art. 47", "--force-before-retention"])
            .contains("customer \(third) erased"))
        #expect(try Self.scalar(s, String.self, PostgresQuery("SELECT name FROM customers WHERE customer_id = $1").binding(third)) == "已注销")
        #expect(try Self.scalar(s, Int.self, PostgresQuery(
            "SELECT count(*) FROM customer_erasures WHERE customer_id = $1 AND db_user = $2 AND forced").binding(third, login)) == 1)
        #expect(try ctl(["customer", "erase", third, "--reason", "again"]).contains("already erased"))

        // policy: files only.
        let policy = try ctl(["policy", "show"])
        #expect(policy.contains("\"version\""))
        try policy.write(toFile: dir + "/policy.json", atomically: true, encoding: .utf8)
        #expect(try ctl(["policy", "check", dir + "/policy.json"]).contains("valid scoring policy"))
        #expect(try ctl(["policy", "show", "--catalog"]).contains("\"products\""))

        // notify: the three lists, and a retry of a failed notification (made failed by the owner here).
        #expect(try ctl(["notify", "unrouted"]).contains("unrouted"))
        #expect(try ctl(["notify", "waiting"]).contains("per RM"))
        let failed = try Self.scalar(s, Int64.self, """
            INSERT INTO notifications (subject, rm_id, channel, target, state, reason)
            VALUES ('alert:test', 'RM0001', 'webhook', 'https://rm.example/hook', 'failed', 'http 400') RETURNING id
            """)
        #expect(try ctl(["notify", "failed"]).contains("1 failed"))
        #expect(try ctl(["notify", "retry", String(failed), "--reason", "receiver fixed"]).contains("notification \(failed) re-enqueued"))
        #expect(try Self.scalar(s, String.self, PostgresQuery("SELECT state FROM notifications WHERE id = $1").binding(failed)) == "pending")
        #expect(try Self.scalar(s, Int.self, "SELECT count(*) FROM tg_jobs WHERE kind = 'send_notification'") == 1)

        // report.
        #expect(try ctl(["report", "retention", "--from", "2026-01-01", "--to", "2026-12-31"]).contains("Retention report"))
        #expect(try ctl(["report", "retention", "--from", "2026-01-01", "--to", "2026-12-31", "--json"]).contains("{"))

        // The login itself holds no more than its role: it owns nothing and cannot run DDL.
        let operatorSession = try PostgresSession(configuration: PostgresConfiguration(
            operatorEnvironment["DATABASE_URL"]!, applicationName: "tierguard-tests"))
        defer { operatorSession.close() }
        do {
            try operatorSession.execute("CREATE TABLE operator_scratch (x int)")
            Issue.record("the operator login ran DDL")
        } catch let error as PostgresError {
            #expect(error.message.contains("permission denied"), "\(error.message)")
        }
    }
}
