import Foundation
import JobQueue
import Postgres

/// The common survey — a new survey of a customer in the archive — in ONE autocommitted statement, where
/// the general path (`FeedbackStore.submit` in a transaction) takes six round trips: BEGIN, receipt,
/// survey, job, receipt status, COMMIT. Everything else — an unknown customer (kept pending), a replayed
/// or conflicting key — is left to the general path, unchanged: this statement then changes nothing.
///
/// One statement is one transaction, so what it writes commits together or not at all (receipt with its
/// final 201 answer, survey, coalesced `score_customer` job), and the caller answers after it returned,
/// i.e. after the commit. A concurrent duplicate waits on the receipt key as on the general path.
/// The job is the queue's own batch enqueue embedded as a CTE (`JobEnqueuer.embeddedInsert`, parameters
/// $1 … $9) with `FeedbackStore.scoreJob(customer)`'s values (`JobEnqueuer.binds`): the row
/// `JobEnqueuer.enqueue` writes on the general path, with the same coalescing (at most one pending job
/// per customer), and no column of `tg_jobs` named here; `tg_jobs_notify` fires for it as for any insert.
enum FeedbackSurveyFastPath {
    static let statement = PostgresQuery(unsafeSQL: """
        WITH known AS (
            SELECT EXISTS (SELECT 1 FROM customers WHERE customer_id = $14) AS k
        ), receipt AS (
            INSERT INTO feedback_receipts (kind, key, request_hash, status, body, source)
            SELECT $10, $11, $12, 201, $15, $13 FROM known WHERE k
            ON CONFLICT (kind, key) DO NOTHING
            RETURNING 1
        ), survey AS (
            INSERT INTO feedback_surveys (survey_id, customer_id, kind, score, touchpoint, answered_at, comment, source)
            SELECT $21, $14, $16, $17, $18, $19::timestamptz, $20, $13 WHERE EXISTS (SELECT 1 FROM receipt)
            RETURNING 1
        ), job AS (
            \(JobEnqueuer.embeddedInsert(firstParameter: 1, when: "EXISTS (SELECT 1 FROM survey)"))
        )
        SELECT EXISTS (SELECT 1 FROM survey) AS stored
        """, name: "FeedbackSQL.surveyFastPath")

    /// The 201 outcome when the statement stored the survey; nil when the general path must decide.
    static func submit(_ session: PostgresSession, _ item: FeedbackItem, _ survey: FeedbackItem.Survey,
                       source: String) throws -> FeedbackOutcome? {
        let body = FeedbackStore.answer(["status": "accepted", "kind": item.kind.rawValue,
                                         FeedbackStore.keyField(item.kind): item.key, "customer_id": survey.customerID])
        let job = FeedbackStore.scoreJob(survey.customerID)
        let own = PostgresBind.list(
            item.kind.rawValue, item.key, item.requestHash, source, survey.customerID, body,
            survey.kind, survey.score, survey.touchpoint, survey.answeredAt, survey.comment, survey.surveyID)
        let rows = try session.query(statement.binding(JobEnqueuer.binds([job]) + own))
        return try rows[0].decode(Bool.self, at: 0) ? FeedbackOutcome(status: 201, body: body) : nil
    }
}
