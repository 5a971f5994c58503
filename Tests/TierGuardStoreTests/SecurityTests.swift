import Foundation
import Postgres
import TestSupport
import Testing
import TierGuardStore

/// Issue 11 in PostgreSQL: least-privilege roles and column grants (checked against a snapshot), row-level
/// security for RM reads on a pooled connection, and the append-only audit of unmasked displays.
@Suite struct SecurityTests {
    /// The privileges of every tierguard_* role after all migrations. A change here is a security review
    /// item: update this literal only together with deploy/SECURITY.md. (Kept in the test rather than as a
    /// Fixtures file: the test target declares no resources, so a non-Swift file there is unhandled.)
    static let grantsSnapshot = """
        column tierguard_feedback customers.customer_id SELECT
        column tierguard_notifier customers.birth_date SELECT
        column tierguard_notifier customers.branch_id SELECT
        column tierguard_notifier customers.customer_id SELECT
        column tierguard_notifier customers.marketing_opt_out SELECT
        column tierguard_notifier customers.name SELECT
        column tierguard_notifier customers.rm_id SELECT
        column tierguard_notifier customers.status SELECT
        column tierguard_operator alerts.business_date INSERT
        column tierguard_operator alerts.business_date UPDATE
        column tierguard_operator alerts.cooldown_until INSERT
        column tierguard_operator alerts.cooldown_until UPDATE
        column tierguard_operator alerts.customer_id INSERT
        column tierguard_operator alerts.dedup_key INSERT
        column tierguard_operator alerts.first_business_date INSERT
        column tierguard_operator alerts.kind INSERT
        column tierguard_operator alerts.last_raised_at UPDATE
        column tierguard_operator alerts.payload INSERT
        column tierguard_operator alerts.payload UPDATE
        column tierguard_operator alerts.payload_hash INSERT
        column tierguard_operator alerts.payload_hash UPDATE
        column tierguard_operator alerts.resolved_at UPDATE
        column tierguard_operator alerts.resolved_business_date UPDATE
        column tierguard_operator alerts.state UPDATE
        column tierguard_operator complaints.decision UPDATE
        column tierguard_operator complaints.description UPDATE
        column tierguard_operator complaints.description_purged_at UPDATE
        column tierguard_operator customer_preferences.automated_profiling_refused INSERT
        column tierguard_operator customer_preferences.automated_profiling_refused UPDATE
        column tierguard_operator customer_preferences.customer_id INSERT
        column tierguard_operator customer_preferences.marketing_opt_out_recorded INSERT
        column tierguard_operator customer_preferences.marketing_opt_out_recorded UPDATE
        column tierguard_operator customer_preferences.recorded_at INSERT
        column tierguard_operator customer_preferences.recorded_at UPDATE
        column tierguard_operator customer_preferences.source INSERT
        column tierguard_operator customer_preferences.source UPDATE
        column tierguard_operator customer_score_rows.aum_fen INSERT
        column tierguard_operator customer_score_rows.business_date INSERT
        column tierguard_operator customer_score_rows.catalog_version INSERT
        column tierguard_operator customer_score_rows.content_hash INSERT
        column tierguard_operator customer_score_rows.contribution_fen INSERT
        column tierguard_operator customer_score_rows.customer_id INSERT
        column tierguard_operator customer_score_rows.first_balance_date INSERT
        column tierguard_operator customer_score_rows.history_hash INSERT
        column tierguard_operator customer_score_rows.is_provisional INSERT
        column tierguard_operator customer_score_rows.m1_before_first INSERT
        column tierguard_operator customer_score_rows.m1_days INSERT
        column tierguard_operator customer_score_rows.m1_month INSERT
        column tierguard_operator customer_score_rows.m1_sum_fen INSERT
        column tierguard_operator customer_score_rows.m2_before_first INSERT
        column tierguard_operator customer_score_rows.m2_days INSERT
        column tierguard_operator customer_score_rows.m2_month INSERT
        column tierguard_operator customer_score_rows.m2_sum_fen INSERT
        column tierguard_operator customer_score_rows.m3_before_first INSERT
        column tierguard_operator customer_score_rows.m3_days INSERT
        column tierguard_operator customer_score_rows.m3_month INSERT
        column tierguard_operator customer_score_rows.m3_sum_fen INSERT
        column tierguard_operator customer_score_rows.mtd_days INSERT
        column tierguard_operator customer_score_rows.mtd_sum_fen INSERT
        column tierguard_operator customer_score_rows.policy_version INSERT
        column tierguard_operator customer_score_rows.recommendations_doc INSERT
        column tierguard_operator customer_score_rows.recommendations_hash INSERT
        column tierguard_operator customer_score_rows.retention_probability INSERT
        column tierguard_operator customer_score_rows.signal_codes INSERT
        column tierguard_operator customer_score_rows.signals_doc INSERT
        column tierguard_operator customer_score_rows.signals_hash INSERT
        column tierguard_operator customer_score_rows.suitability_doc INSERT
        column tierguard_operator customer_score_rows.suitability_hash INSERT
        column tierguard_operator customer_score_rows.tier INSERT
        column tierguard_operator customer_score_rows.value_doc INSERT
        column tierguard_operator customer_score_rows.value_hash INSERT
        column tierguard_operator customer_score_rows.warning_date INSERT
        column tierguard_operator customer_score_rows.warning_doc INSERT
        column tierguard_operator customer_score_rows.warning_extra_daily_fen INSERT
        column tierguard_operator customer_score_rows.warning_from_tier INSERT
        column tierguard_operator customer_score_rows.warning_gap_fen INSERT
        column tierguard_operator customer_score_rows.warning_hash INSERT
        column tierguard_operator customer_score_rows.warning_to_tier INSERT
        column tierguard_operator customer_score_rows.watch_months INSERT
        column tierguard_operator customer_tier_history.customer_id INSERT
        column tierguard_operator customer_tier_history.deciding_month INSERT
        column tierguard_operator customer_tier_history.deciding_month UPDATE
        column tierguard_operator customer_tier_history.effective_on INSERT
        column tierguard_operator customer_tier_history.floor_fen INSERT
        column tierguard_operator customer_tier_history.floor_fen UPDATE
        column tierguard_operator customer_tier_history.from_tier INSERT
        column tierguard_operator customer_tier_history.from_tier UPDATE
        column tierguard_operator customer_tier_history.kind INSERT
        column tierguard_operator customer_tier_history.kind UPDATE
        column tierguard_operator customer_tier_history.policy_version INSERT
        column tierguard_operator customer_tier_history.policy_version UPDATE
        column tierguard_operator customer_tier_history.reason INSERT
        column tierguard_operator customer_tier_history.reason UPDATE
        column tierguard_operator customer_tier_history.recorded_at UPDATE
        column tierguard_operator customer_tier_history.to_tier INSERT
        column tierguard_operator customer_tier_history.to_tier UPDATE
        column tierguard_operator customers.birth_date UPDATE
        column tierguard_operator customers.erased_at UPDATE
        column tierguard_operator customers.gender UPDATE
        column tierguard_operator customers.id_number_enc UPDATE
        column tierguard_operator customers.id_number_hmac UPDATE
        column tierguard_operator customers.id_number_key_id UPDATE
        column tierguard_operator customers.name UPDATE
        column tierguard_operator customers.phone_enc UPDATE
        column tierguard_operator customers.phone_hmac UPDATE
        column tierguard_operator customers.phone_key_id UPDATE
        column tierguard_operator feedback_receipts.body INSERT
        column tierguard_operator feedback_receipts.body UPDATE
        column tierguard_operator feedback_receipts.key INSERT
        column tierguard_operator feedback_receipts.kind INSERT
        column tierguard_operator feedback_receipts.request_hash INSERT
        column tierguard_operator feedback_receipts.source INSERT
        column tierguard_operator feedback_receipts.status INSERT
        column tierguard_operator feedback_receipts.status UPDATE
        column tierguard_operator feedback_surveys.comment UPDATE
        column tierguard_operator feedback_surveys.comment_purged_at UPDATE
        column tierguard_operator ingest_rejects.raw_text UPDATE
        column tierguard_operator ingest_rejects.raw_text_enc UPDATE
        column tierguard_operator ingest_rejects.raw_text_key_id UPDATE
        column tierguard_operator notifications.reason UPDATE
        column tierguard_operator notifications.state UPDATE
        column tierguard_operator notifications.updated_at UPDATE
        column tierguard_operator preference_events.automated_profiling_refused INSERT
        column tierguard_operator preference_events.channel INSERT
        column tierguard_operator preference_events.customer_id INSERT
        column tierguard_operator preference_events.marketing_opt_out INSERT
        column tierguard_operator preference_events.preference_id INSERT
        column tierguard_operator preference_events.reason UPDATE
        column tierguard_operator preference_events.recorded_at INSERT
        column tierguard_operator preference_events.source INSERT
        column tierguard_operator rm_visits.note UPDATE
        column tierguard_operator rm_visits.note_purged_at UPDATE
        column tierguard_operator score_documents.body INSERT
        column tierguard_operator score_documents.customer_id INSERT
        column tierguard_operator score_documents.id INSERT
        column tierguard_operator scoring_policies.active INSERT
        column tierguard_operator scoring_policies.active UPDATE
        column tierguard_operator scoring_policies.last_used UPDATE
        column tierguard_operator scoring_policies.policy INSERT
        column tierguard_operator scoring_policies.policy UPDATE
        column tierguard_operator scoring_policies.version INSERT
        column tierguard_rm customers.branch_id SELECT
        column tierguard_rm customers.customer_id SELECT
        column tierguard_rm customers.marketing_opt_out SELECT
        column tierguard_rm customers.name SELECT
        column tierguard_rm customers.rm_id SELECT
        column tierguard_rm customers.status SELECT
        column tierguard_scorer customers.annual_income_fen SELECT
        column tierguard_scorer customers.branch_id SELECT
        column tierguard_scorer customers.customer_id SELECT
        column tierguard_scorer customers.id_type SELECT
        column tierguard_scorer customers.marketing_opt_out SELECT
        column tierguard_scorer customers.name SELECT
        column tierguard_scorer customers.opened_on SELECT
        column tierguard_scorer customers.risk_assessed_on SELECT
        column tierguard_scorer customers.risk_level SELECT
        column tierguard_scorer customers.rm_id SELECT
        column tierguard_scorer customers.status SELECT
        policy alerts rm_own_alerts SELECT tierguard_rm using (EXISTS ( SELECT 1 FROM customers c WHERE ((c.customer_id = alerts.customer_id) AND (c.rm_id = NULLIF(current_setting('tierguard.rm_id'::text, true), ''::text))))) check -
        policy alerts services_all ALL tierguard_feedback,tierguard_ingest,tierguard_notifier,tierguard_operator,tierguard_scorer using true check true
        policy customer_score_rows rm_own_scores SELECT tierguard_rm using (EXISTS ( SELECT 1 FROM customers c WHERE ((c.customer_id = customer_score_rows.customer_id) AND (c.rm_id = NULLIF(current_setting('tierguard.rm_id'::text, true), ''::text))))) check -
        policy customer_score_rows services_all ALL tierguard_feedback,tierguard_ingest,tierguard_notifier,tierguard_operator,tierguard_scorer using true check true
        policy customers rm_own_customers SELECT tierguard_rm using (rm_id = NULLIF(current_setting('tierguard.rm_id'::text, true), ''::text)) check -
        policy customers services_all ALL tierguard_feedback,tierguard_ingest,tierguard_notifier,tierguard_operator,tierguard_scorer using true check true
        policy score_documents rm_own_documents SELECT tierguard_rm using (EXISTS ( SELECT 1 FROM customers c WHERE ((c.customer_id = score_documents.customer_id) AND (c.rm_id = NULLIF(current_setting('tierguard.rm_id'::text, true), ''::text))))) check -
        policy score_documents services_all ALL tierguard_feedback,tierguard_ingest,tierguard_notifier,tierguard_operator,tierguard_scorer using true check true
        routine tierguard_ingest tierguard_ensure_month_partitions EXECUTE
        routine tierguard_notifier tierguard_birthday_sms_recipient EXECUTE
        routine tierguard_operator tierguard_drop_archive_months EXECUTE
        routine tierguard_scorer pii_access_audit_purge EXECUTE
        table tierguard_feedback alert_feedback DELETE
        table tierguard_feedback alert_feedback INSERT
        table tierguard_feedback alert_feedback SELECT
        table tierguard_feedback alert_feedback UPDATE
        table tierguard_feedback alerts INSERT
        table tierguard_feedback alerts SELECT
        table tierguard_feedback alerts UPDATE
        table tierguard_feedback complaint_events DELETE
        table tierguard_feedback complaint_events INSERT
        table tierguard_feedback complaint_events SELECT
        table tierguard_feedback complaint_events UPDATE
        table tierguard_feedback complaints DELETE
        table tierguard_feedback complaints INSERT
        table tierguard_feedback complaints SELECT
        table tierguard_feedback complaints UPDATE
        table tierguard_feedback customer_effective_preferences SELECT
        table tierguard_feedback customer_preferences DELETE
        table tierguard_feedback customer_preferences INSERT
        table tierguard_feedback customer_preferences SELECT
        table tierguard_feedback customer_preferences UPDATE
        table tierguard_feedback feedback_pending DELETE
        table tierguard_feedback feedback_pending INSERT
        table tierguard_feedback feedback_pending SELECT
        table tierguard_feedback feedback_pending UPDATE
        table tierguard_feedback feedback_purges DELETE
        table tierguard_feedback feedback_purges INSERT
        table tierguard_feedback feedback_purges SELECT
        table tierguard_feedback feedback_purges UPDATE
        table tierguard_feedback feedback_receipts DELETE
        table tierguard_feedback feedback_receipts INSERT
        table tierguard_feedback feedback_receipts SELECT
        table tierguard_feedback feedback_receipts UPDATE
        table tierguard_feedback feedback_surveys DELETE
        table tierguard_feedback feedback_surveys INSERT
        table tierguard_feedback feedback_surveys SELECT
        table tierguard_feedback feedback_surveys UPDATE
        table tierguard_feedback ingest_batches INSERT
        table tierguard_feedback ingest_batches SELECT
        table tierguard_feedback ingest_batches UPDATE
        table tierguard_feedback ingest_rejects INSERT
        table tierguard_feedback ingest_rejects SELECT
        table tierguard_feedback preference_events DELETE
        table tierguard_feedback preference_events INSERT
        table tierguard_feedback preference_events SELECT
        table tierguard_feedback preference_events UPDATE
        table tierguard_feedback retention_report SELECT
        table tierguard_feedback rm_tasks INSERT
        table tierguard_feedback rm_tasks SELECT
        table tierguard_feedback rm_tasks UPDATE
        table tierguard_feedback rm_visits DELETE
        table tierguard_feedback rm_visits INSERT
        table tierguard_feedback rm_visits SELECT
        table tierguard_feedback rm_visits UPDATE
        table tierguard_feedback schema_migrations SELECT
        table tierguard_feedback tg_job_counts SELECT
        table tierguard_feedback tg_job_kind_stats DELETE
        table tierguard_feedback tg_job_kind_stats INSERT
        table tierguard_feedback tg_job_kind_stats SELECT
        table tierguard_feedback tg_job_kind_stats UPDATE
        table tierguard_feedback tg_jobs DELETE
        table tierguard_feedback tg_jobs INSERT
        table tierguard_feedback tg_jobs SELECT
        table tierguard_feedback tg_jobs UPDATE
        table tierguard_feedback tg_periodic_ticks DELETE
        table tierguard_feedback tg_periodic_ticks INSERT
        table tierguard_feedback tg_periodic_ticks SELECT
        table tierguard_feedback tg_periodic_ticks UPDATE
        table tierguard_feedback tg_queues DELETE
        table tierguard_feedback tg_queues INSERT
        table tierguard_feedback tg_queues SELECT
        table tierguard_feedback tg_queues UPDATE
        table tierguard_feedback tg_workers DELETE
        table tierguard_feedback tg_workers INSERT
        table tierguard_feedback tg_workers SELECT
        table tierguard_feedback tg_workers UPDATE
        table tierguard_ingest accounts DELETE
        table tierguard_ingest accounts INSERT
        table tierguard_ingest accounts SELECT
        table tierguard_ingest accounts UPDATE
        table tierguard_ingest archive_changes DELETE
        table tierguard_ingest archive_changes INSERT
        table tierguard_ingest archive_changes SELECT
        table tierguard_ingest archive_changes UPDATE
        table tierguard_ingest balances DELETE
        table tierguard_ingest balances INSERT
        table tierguard_ingest balances SELECT
        table tierguard_ingest balances UPDATE
        table tierguard_ingest customers DELETE
        table tierguard_ingest customers INSERT
        table tierguard_ingest customers SELECT
        table tierguard_ingest customers UPDATE
        table tierguard_ingest ingest_batches DELETE
        table tierguard_ingest ingest_batches INSERT
        table tierguard_ingest ingest_batches SELECT
        table tierguard_ingest ingest_batches UPDATE
        table tierguard_ingest ingest_rejects DELETE
        table tierguard_ingest ingest_rejects INSERT
        table tierguard_ingest ingest_rejects SELECT
        table tierguard_ingest ingest_rejects UPDATE
        table tierguard_ingest pending_records DELETE
        table tierguard_ingest pending_records INSERT
        table tierguard_ingest pending_records SELECT
        table tierguard_ingest pending_records UPDATE
        table tierguard_ingest relationship_managers DELETE
        table tierguard_ingest relationship_managers INSERT
        table tierguard_ingest relationship_managers SELECT
        table tierguard_ingest relationship_managers UPDATE
        table tierguard_ingest schema_migrations SELECT
        table tierguard_ingest tg_job_counts SELECT
        table tierguard_ingest tg_job_kind_stats DELETE
        table tierguard_ingest tg_job_kind_stats INSERT
        table tierguard_ingest tg_job_kind_stats SELECT
        table tierguard_ingest tg_job_kind_stats UPDATE
        table tierguard_ingest tg_jobs DELETE
        table tierguard_ingest tg_jobs INSERT
        table tierguard_ingest tg_jobs SELECT
        table tierguard_ingest tg_jobs UPDATE
        table tierguard_ingest tg_periodic_ticks DELETE
        table tierguard_ingest tg_periodic_ticks INSERT
        table tierguard_ingest tg_periodic_ticks SELECT
        table tierguard_ingest tg_periodic_ticks UPDATE
        table tierguard_ingest tg_queues DELETE
        table tierguard_ingest tg_queues INSERT
        table tierguard_ingest tg_queues SELECT
        table tierguard_ingest tg_queues UPDATE
        table tierguard_ingest tg_workers DELETE
        table tierguard_ingest tg_workers INSERT
        table tierguard_ingest tg_workers SELECT
        table tierguard_ingest tg_workers UPDATE
        table tierguard_ingest transactions DELETE
        table tierguard_ingest transactions INSERT
        table tierguard_ingest transactions SELECT
        table tierguard_ingest transactions UPDATE
        table tierguard_notifier accounts SELECT
        table tierguard_notifier alerts SELECT
        table tierguard_notifier balances SELECT
        table tierguard_notifier business_calendar SELECT
        table tierguard_notifier complaints SELECT
        table tierguard_notifier customer_effective_preferences SELECT
        table tierguard_notifier customer_preferences SELECT
        table tierguard_notifier customer_score_rows SELECT
        table tierguard_notifier customer_scores SELECT
        table tierguard_notifier notification_deliveries INSERT
        table tierguard_notifier notification_deliveries SELECT
        table tierguard_notifier notification_deliveries UPDATE
        table tierguard_notifier notifications INSERT
        table tierguard_notifier notifications SELECT
        table tierguard_notifier notifications UPDATE
        table tierguard_notifier notify_rate_windows INSERT
        table tierguard_notifier notify_rate_windows SELECT
        table tierguard_notifier notify_rate_windows UPDATE
        table tierguard_notifier relationship_managers SELECT
        table tierguard_notifier rm_tasks INSERT
        table tierguard_notifier rm_tasks SELECT
        table tierguard_notifier rm_tasks UPDATE
        table tierguard_notifier schema_migrations SELECT
        table tierguard_notifier score_documents SELECT
        table tierguard_notifier tg_job_counts SELECT
        table tierguard_notifier tg_job_kind_stats DELETE
        table tierguard_notifier tg_job_kind_stats INSERT
        table tierguard_notifier tg_job_kind_stats SELECT
        table tierguard_notifier tg_job_kind_stats UPDATE
        table tierguard_notifier tg_jobs DELETE
        table tierguard_notifier tg_jobs INSERT
        table tierguard_notifier tg_jobs SELECT
        table tierguard_notifier tg_jobs UPDATE
        table tierguard_notifier tg_periodic_ticks DELETE
        table tierguard_notifier tg_periodic_ticks INSERT
        table tierguard_notifier tg_periodic_ticks SELECT
        table tierguard_notifier tg_periodic_ticks UPDATE
        table tierguard_notifier tg_queues DELETE
        table tierguard_notifier tg_queues INSERT
        table tierguard_notifier tg_queues SELECT
        table tierguard_notifier tg_queues UPDATE
        table tierguard_notifier tg_workers DELETE
        table tierguard_notifier tg_workers INSERT
        table tierguard_notifier tg_workers SELECT
        table tierguard_notifier tg_workers UPDATE
        table tierguard_notifier wecom_tokens INSERT
        table tierguard_notifier wecom_tokens SELECT
        table tierguard_notifier wecom_tokens UPDATE
        table tierguard_operator accounts SELECT
        table tierguard_operator alert_feedback SELECT
        table tierguard_operator alerts SELECT
        table tierguard_operator archive_changes SELECT
        table tierguard_operator archive_retention_log SELECT
        table tierguard_operator balance_month_rollups SELECT
        table tierguard_operator balances SELECT
        table tierguard_operator business_calendar DELETE
        table tierguard_operator business_calendar INSERT
        table tierguard_operator business_calendar SELECT
        table tierguard_operator business_calendar UPDATE
        table tierguard_operator complaint_events SELECT
        table tierguard_operator complaints SELECT
        table tierguard_operator customer_effective_preferences SELECT
        table tierguard_operator customer_erasures INSERT
        table tierguard_operator customer_erasures SELECT
        table tierguard_operator customer_preferences SELECT
        table tierguard_operator customer_score_rows SELECT
        table tierguard_operator customer_scores SELECT
        table tierguard_operator customer_status SELECT
        table tierguard_operator customer_tier_history DELETE
        table tierguard_operator customer_tier_history SELECT
        table tierguard_operator customers SELECT
        table tierguard_operator feedback_pending SELECT
        table tierguard_operator feedback_purges SELECT
        table tierguard_operator feedback_receipts SELECT
        table tierguard_operator feedback_surveys SELECT
        table tierguard_operator ingest_batches SELECT
        table tierguard_operator ingest_rejects SELECT
        table tierguard_operator notification_deliveries SELECT
        table tierguard_operator notifications SELECT
        table tierguard_operator notify_rate_windows SELECT
        table tierguard_operator pending_records SELECT
        table tierguard_operator pii_access_audit INSERT
        table tierguard_operator pii_access_audit SELECT
        table tierguard_operator preference_events SELECT
        table tierguard_operator relationship_managers SELECT
        table tierguard_operator retention_report SELECT
        table tierguard_operator rm_tasks SELECT
        table tierguard_operator rm_visits SELECT
        table tierguard_operator schema_migrations SELECT
        table tierguard_operator score_documents SELECT
        table tierguard_operator scoring_policies SELECT
        table tierguard_operator tg_job_counts SELECT
        table tierguard_operator tg_job_kind_stats DELETE
        table tierguard_operator tg_job_kind_stats INSERT
        table tierguard_operator tg_job_kind_stats SELECT
        table tierguard_operator tg_job_kind_stats UPDATE
        table tierguard_operator tg_job_operator_actions INSERT
        table tierguard_operator tg_job_operator_actions SELECT
        table tierguard_operator tg_jobs DELETE
        table tierguard_operator tg_jobs INSERT
        table tierguard_operator tg_jobs SELECT
        table tierguard_operator tg_jobs UPDATE
        table tierguard_operator tg_periodic_ticks DELETE
        table tierguard_operator tg_periodic_ticks INSERT
        table tierguard_operator tg_periodic_ticks SELECT
        table tierguard_operator tg_periodic_ticks UPDATE
        table tierguard_operator tg_queues DELETE
        table tierguard_operator tg_queues INSERT
        table tierguard_operator tg_queues SELECT
        table tierguard_operator tg_queues UPDATE
        table tierguard_operator tg_workers DELETE
        table tierguard_operator tg_workers INSERT
        table tierguard_operator tg_workers SELECT
        table tierguard_operator tg_workers UPDATE
        table tierguard_operator transactions SELECT
        table tierguard_operator wecom_tokens SELECT
        table tierguard_rm alerts SELECT
        table tierguard_rm customer_score_rows SELECT
        table tierguard_rm customer_scores SELECT
        table tierguard_rm customer_status_rm SELECT
        table tierguard_rm score_documents SELECT
        table tierguard_scorer accounts SELECT
        table tierguard_scorer alert_feedback SELECT
        table tierguard_scorer alerts DELETE
        table tierguard_scorer alerts INSERT
        table tierguard_scorer alerts SELECT
        table tierguard_scorer alerts UPDATE
        table tierguard_scorer balance_month_rollups SELECT
        table tierguard_scorer balances SELECT
        table tierguard_scorer complaints SELECT
        table tierguard_scorer customer_effective_preferences SELECT
        table tierguard_scorer customer_preferences SELECT
        table tierguard_scorer customer_score_rows DELETE
        table tierguard_scorer customer_score_rows INSERT
        table tierguard_scorer customer_score_rows SELECT
        table tierguard_scorer customer_score_rows UPDATE
        table tierguard_scorer customer_scores SELECT
        table tierguard_scorer customer_tier_history DELETE
        table tierguard_scorer customer_tier_history INSERT
        table tierguard_scorer customer_tier_history SELECT
        table tierguard_scorer customer_tier_history UPDATE
        table tierguard_scorer feedback_surveys SELECT
        table tierguard_scorer preference_events SELECT
        table tierguard_scorer retention_purges INSERT
        table tierguard_scorer retention_purges SELECT
        table tierguard_scorer rm_visits SELECT
        table tierguard_scorer schema_migrations SELECT
        table tierguard_scorer score_documents DELETE
        table tierguard_scorer score_documents INSERT
        table tierguard_scorer score_documents SELECT
        table tierguard_scorer scoring_policies INSERT
        table tierguard_scorer scoring_policies SELECT
        table tierguard_scorer scoring_policies UPDATE
        table tierguard_scorer tg_job_counts SELECT
        table tierguard_scorer tg_job_kind_stats DELETE
        table tierguard_scorer tg_job_kind_stats INSERT
        table tierguard_scorer tg_job_kind_stats SELECT
        table tierguard_scorer tg_job_kind_stats UPDATE
        table tierguard_scorer tg_jobs DELETE
        table tierguard_scorer tg_jobs INSERT
        table tierguard_scorer tg_jobs SELECT
        table tierguard_scorer tg_jobs UPDATE
        table tierguard_scorer tg_periodic_ticks DELETE
        table tierguard_scorer tg_periodic_ticks INSERT
        table tierguard_scorer tg_periodic_ticks SELECT
        table tierguard_scorer tg_periodic_ticks UPDATE
        table tierguard_scorer tg_queues DELETE
        table tierguard_scorer tg_queues INSERT
        table tierguard_scorer tg_queues SELECT
        table tierguard_scorer tg_queues UPDATE
        table tierguard_scorer tg_workers DELETE
        table tierguard_scorer tg_workers INSERT
        table tierguard_scorer tg_workers SELECT
        table tierguard_scorer tg_workers UPDATE
        table tierguard_scorer transactions SELECT
        """

    static func database() throws -> TestDatabase {
        try TestDatabase.create(migrations: TierGuardSchema.migrations(), prefix: "sec")
    }

    /// Three customers: C1 and C2 belong to RM001, C3 to RM002; one open alert each.
    static func seed(_ s: PostgresSession) throws {
        try s.execute("""
            INSERT INTO customers (customer_id, name, id_type, risk_level, risk_assessed_on, rm_id,
                                   branch_id, opened_on, status, marketing_opt_out, content_hash, first_batch_id, last_batch_id)
            SELECT v.id, v.name, 'resident_id', 'C3', DATE '2026-01-05', v.rm, 'B01',
                   DATE '2020-01-01', 'active', false, '\\x00', 1, 1
            FROM (VALUES ('C1', '张三', '110105199001010017', 'RM001'), ('C2', '李四', '110105199001010025', 'RM001'),
                         ('C3', '王五', '110105199001010033', 'RM002')) v (id, name, idn, rm)
            """)
        try s.execute("""
            INSERT INTO alerts (customer_id, kind, dedup_key, business_date, first_business_date, cooldown_until, payload)
            SELECT c, 'dissatisfied', 'dissatisfied:' || c, DATE '2026-03-31', DATE '2026-03-31', DATE '2026-04-09', '{}'
            FROM unnest(ARRAY['C1', 'C2', 'C3']) c
            """)
    }

    static func sqlState(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let error as PostgresError { return error.sqlState } catch { return "other" }
    }

    static func strings(_ s: PostgresSession, _ query: PostgresQuery) throws -> [String] {
        try s.query(query).map { try $0.decode(String.self, at: 0) }
    }

    @Test func liveGrantsMatchTheCheckedInSnapshot() throws {
        let db = try Self.database()
        let s = try db.session()
        defer { s.close() }
        let live = try GrantSnapshot.current(s)
        if live != Self.grantsSnapshot {
            let want = Set(Self.grantsSnapshot.split(separator: "\n")), have = Set(live.split(separator: "\n"))
            Issue.record("grants differ from the snapshot; widened: \(have.subtracting(want).sorted()); narrowed: \(want.subtracting(have).sorted())")
            print("LIVE-SNAPSHOT-BEGIN\n\(live)\nLIVE-SNAPSHOT-END")
        }
        // The rules the snapshot encodes, stated directly as well.
        #expect(!live.contains("column tierguard_notifier customers.id_number"))
        #expect(!live.contains("column tierguard_notifier customers.phone"))
        #expect(!live.contains("column tierguard_scorer customers.phone"))
        #expect(!live.contains("table tierguard_notifier customers "))
        #expect(!live.contains("table tierguard_scorer customers "))
        #expect(!live.contains("pii_access_audit UPDATE") && !live.contains("pii_access_audit DELETE"))
        // No role owns a table, bypasses RLS, or can log in.
        #expect(try s.query("""
            SELECT count(*) FROM pg_tables t WHERE t.schemaname = 'public' AND t.tableowner LIKE 'tierguard\\_%'
            """)[0].decode(Int.self, at: 0) == 0)
        let roles = try s.query("""
            SELECT rolname, rolbypassrls, rolcanlogin, rolsuper,
                   (SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting WHERE setrole = r.oid AND setdatabase = 0)
            FROM pg_roles r WHERE rolname LIKE 'tierguard\\_%' ORDER BY rolname
            """)
        #expect(try roles.map { try $0.decode(String.self, at: 0) } == [
            "tierguard_feedback", "tierguard_ingest", "tierguard_notifier", "tierguard_operator", "tierguard_rm", "tierguard_scorer"])
        for row in roles {
            #expect(try row.decode(Bool.self, at: 1) == false)
            #expect(try row.decode(Bool.self, at: 2) == false)
            #expect(try row.decode(Bool.self, at: 3) == false)
            let role = try row.decode(String.self, at: 0), settings = try row.decode(String?.self, at: 4) ?? ""
            for name in ["statement_timeout=", "lock_timeout=", "idle_in_transaction_session_timeout="] {
                #expect(settings.contains(name), "\(role): \(settings)")
            }
        }
    }

    @Test func theNotifierCannotReadIdentifiersAndTheScorerCannotReadPhones() throws {
        let db = try Self.database()
        let s = try db.session()
        defer { s.close() }
        try Self.seed(s)
        try s.execute("SET ROLE tierguard_notifier")
        #expect(Self.sqlState { _ = try s.query("SELECT id_number_enc FROM customers") } == "42501")
        #expect(Self.sqlState { _ = try s.query("SELECT phone_enc FROM customers") } == "42501")
        #expect(Self.sqlState { _ = try s.query("SELECT * FROM customers") } == "42501")
        #expect(Self.sqlState { _ = try s.query("SELECT reason FROM pii_access_audit") } == "42501")
        // Its own columns work, through the services' USING (true) policy.
        #expect(try Self.strings(s, "SELECT customer_id || ' ' || rm_id || ' ' || name FROM customers ORDER BY 1")
                == ["C1 RM001 张三", "C2 RM001 李四", "C3 RM002 王五"])
        try s.execute("RESET ROLE")
        try s.execute("SET ROLE tierguard_scorer")
        #expect(Self.sqlState { _ = try s.query("SELECT phone_enc FROM customers") } == "42501")
        #expect(Self.sqlState { _ = try s.query("SELECT id_number_enc FROM customers") } == "42501")
        #expect(try Self.strings(s, "SELECT customer_id || ' ' || risk_level FROM customers ORDER BY 1") == ["C1 C3", "C2 C3", "C3 C3"])
        #expect(try s.query("SELECT count(*) FROM alerts")[0].decode(Int.self, at: 0) == 3)
        try s.execute("RESET ROLE")
    }

    @Test func twoRMsOnOnePooledConnectionSeeOnlyTheirOwnCustomers() throws {
        let db = try Self.database()
        let s = try db.session()
        defer { s.close() }
        try Self.seed(s)
        // What one pooled RM transaction sees: customers, alerts and the security-invoker view.
        func rmRead(_ rmId: String?) throws -> [String] {
            try s.withTransaction { t in
                try t.execute("SET LOCAL ROLE tierguard_rm")
                if let rmId { _ = try t.query(PostgresQuery("SELECT set_config('tierguard.rm_id', $1, true)").binding(rmId)) }
                return try Self.strings(t, "SELECT 'customer ' || customer_id FROM customers")
                    + Self.strings(t, "SELECT 'alert ' || customer_id FROM alerts")
                    + Self.strings(t, "SELECT 'status ' || customer_id FROM customer_status_rm")
            }.sorted()
        }
        #expect(try rmRead(nil) == [], "never set on this connection: NULL")
        #expect(try rmRead("RM001") == ["alert C1", "alert C2", "customer C1", "customer C2", "status C1", "status C2"])
        #expect(try rmRead("RM002") == ["alert C3", "customer C3", "status C3"])
        #expect(try rmRead(nil) == [], "after a SET LOCAL on the same connection the setting reads ''")
        #expect(try rmRead("RM404") == [])
        #expect(try rmRead("RM001").count == 6)
        // The RM role is not given identifiers, and the owner-run customer_status view is closed to it.
        try s.withTransaction { t in
            try t.execute("SET LOCAL ROLE tierguard_rm")
            #expect(Self.sqlState { _ = try t.query("SELECT count(*) FROM customer_status") } == "42501")
        }
        try s.withTransaction { t in
            try t.execute("SET LOCAL ROLE tierguard_rm")
            #expect(Self.sqlState { _ = try t.query("SELECT id_number_enc FROM customers") } == "42501")
        }
        // Back on the service side, everyone is visible again on the same connection.
        #expect(try s.query("SELECT current_user = session_user, count(*) FROM customers GROUP BY 1")[0].decode(Int.self, at: 1) == 3)
        try s.withTransaction { t in
            try t.execute("SET LOCAL ROLE tierguard_ingest")
            #expect(try t.query("SELECT count(*) FROM customers")[0].decode(Int.self, at: 0) == 3)
        }
    }

    @Test func theAccessAuditIsAppendOnly() throws {
        let db = try Self.database()
        let s = try db.session()
        defer { s.close() }
        try s.execute("SET ROLE tierguard_operator")
        let id = try PIIAccessAudit.record(s, operator: "ops.li", customerIds: ["C2", "C1", "C2"], reason: "complaint 42",
                                           command: "customer show")
        #expect(throws: PIIAccessAudit.MissingReason.self) {
            try PIIAccessAudit.record(s, operator: "ops.li", customerIds: ["C1"], reason: "  ", command: "customer show")
        }
        #expect(try Self.strings(s, PostgresQuery("""
            SELECT operator || ' ' || array_to_string(customer_ids, ',') || ' ' || reason || ' ' || command
            FROM pii_access_audit WHERE id = $1
            """).binding(id)) == ["ops.li C1,C2 complaint 42 customer show"])
        #expect(Self.sqlState { try s.execute("UPDATE pii_access_audit SET reason = 'x'") } == "42501")
        #expect(Self.sqlState { try s.execute("DELETE FROM pii_access_audit") } == "42501")
        #expect(Self.sqlState { try s.execute("TRUNCATE pii_access_audit") } == "42501")
        try s.execute("RESET ROLE")
        for role in ["tierguard_ingest", "tierguard_scorer", "tierguard_notifier", "tierguard_feedback", "tierguard_rm"] {
            try s.execute(PostgresQuery(unsafeSQL: "SET ROLE \(role)"))
            #expect(Self.sqlState { try s.execute("DELETE FROM pii_access_audit") } == "42501", "\(role)")
            try s.execute("RESET ROLE")
        }
        // The owner (here a superuser) is refused by the triggers.
        #expect(Self.sqlState { try s.execute("UPDATE pii_access_audit SET reason = 'x'") } == "42501")
        #expect(Self.sqlState { try s.execute("DELETE FROM pii_access_audit") } == "42501")
        #expect(Self.sqlState { try s.execute("TRUNCATE pii_access_audit") } == "42501")
        #expect(try s.query("SELECT count(*) FROM pii_access_audit")[0].decode(Int.self, at: 0) == 1)
    }

    @Test func unmaskingInTierguardctlNeedsAReasonAndIsAudited() throws {
        let db = try Self.database()
        let s = try db.session()
        defer { s.close() }
        try Self.seed(s)
        let batch = try s.query("""
            INSERT INTO ingest_batches (source, format, contract_version) VALUES ('file', 'ndjson', '1.1') RETURNING id
            """)[0].decode(Int64.self, at: 0)
        try s.execute(PostgresQuery("""
            INSERT INTO ingest_rejects (batch_id, customer_id, line_number, reason, raw_text)
            VALUES ($1, 'C3', 7, 'risk_level: unknown value', '{"type":"customer","customer_id":"C3","name":"王五","id_number":"110105199001010033"}')
            """).binding(batch))
        let env = ["DATABASE_URL": db.url, "TIERGUARD_OPERATOR": "ops.wang"]
        func auditRows() throws -> [String] {
            try Self.strings(s, """
                SELECT operator || ' ' || array_to_string(customer_ids, ',') || ' ' || reason || ' ' || split_part(command, ' ', 1)
                FROM pii_access_audit ORDER BY id
                """)
        }

        let refused = try ServiceProcess.run("tierguardctl", ["customer", "show", "C1", "--unmask"], environment: env)
        #expect(refused.status == 64, "\(refused.stderr)")
        #expect(!refused.stdout.contains("张三"))
        let refusedRejects = try ServiceProcess.run("tierguardctl", ["rejects", "--unmask", "--reason", " "], environment: env)
        #expect(refusedRejects.status == 64, "\(refusedRejects.stderr)")
        #expect(try auditRows() == [])

        let masked = try ServiceProcess.run("tierguardctl", ["customer", "show", "C1"], environment: env)
        #expect(masked.status == 0, "\(masked.stderr)")
        #expect(masked.stdout.contains("张*") && !masked.stdout.contains("张三"))
        #expect(try auditRows() == [], "a masked display is not audited")

        let shown = try ServiceProcess.run("tierguardctl", ["customer", "show", "C1", "--unmask", "--reason", "complaint 42"], environment: env)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("张三"))
        #expect(try auditRows() == ["ops.wang C1 complaint 42 customer"])

        let raw = try ServiceProcess.run("tierguardctl", ["rejects", "--unmask", "--reason", "feed fix"], environment: env)
        #expect(raw.status == 0, "\(raw.stderr)")
        #expect(raw.stdout.contains("110105199001010033"))
        #expect(try auditRows() == ["ops.wang C1 complaint 42 customer", "ops.wang C3 feed fix rejects"])
    }

    /// Roles and role settings are cluster-global while migrations run per database, several at once: on a
    /// fresh private cluster (no tierguard_* role yet), six databases migrating at the same moment all succeed.
    @Test func migratingSixDatabasesAtOnceOnAFreshClusterCreatesTheRolesOnce() throws {
        let cluster = try LocalCluster.startPrivate()
        defer { cluster.destroy() }
        let admin = try PostgresSession(configuration: PostgresConfiguration(cluster.url, applicationName: "tierguard-tests"))
        defer { admin.close() }
        #expect(try admin.query("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'tierguard\\_%'")[0].decode(Int.self, at: 0) == 0)
        let names = (0..<6).map { "sec_race_\($0)" }
        for name in names { try admin.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)")) }
        let migrations = try TierGuardSchema.migrations()
        final class Failures: @unchecked Sendable {
            let lock = NSLock()
            var errors: [String] = []
            func add(_ error: String) { lock.lock(); errors.append(error); lock.unlock() }
        }
        let failures = Failures()
        let done = DispatchSemaphore(value: 0)
        for name in names {
            let url = cluster.url(database: name)
            Thread.detachNewThread {
                do {
                    let session = try PostgresSession(configuration: PostgresConfiguration(url, applicationName: "tierguard-tests"))
                    defer { session.close() }
                    try Migrator.migrate(session, migrations)
                } catch {
                    failures.add("\(name): \(error)")
                }
                done.signal()
            }
        }
        for _ in names { #expect(done.wait(timeout: .now() + 60) == .success) }
        #expect(failures.errors == [])
        #expect(try admin.query("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'tierguard\\_%'")[0].decode(Int.self, at: 0) == 6)
        for name in names {
            let s = try PostgresSession(configuration: PostgresConfiguration(cluster.url(database: name), applicationName: "tierguard-tests"))
            defer { s.close() }
            #expect(try GrantSnapshot.current(s) == Self.grantsSnapshot, "\(name)")
        }
    }
}
