import Foundation
import Postgres

/// `tierguard-feedback load FILE…`: NDJSON files of the same items the API takes, one object a line
/// with `type` (survey, complaint, complaint_event, visit, preference, alert_feedback), validated the
/// same way. A file is one `ingest_batches` row (format `ndjson(feedback)`) and one transaction; each
/// line is applied in its own savepoint; a refused line goes to `ingest_rejects` with its line
/// number, field and reason (never dropped). Lines are numbered from 1; blank lines are skipped.
public enum FeedbackLoader {
    public struct Summary: Sendable, Equatable, Codable {
        public var batchID: Int64 = 0
        public var applied = 0, pending = 0, replayed = 0, rejected = 0
    }

    public static func load(_ session: PostgresSession, fileName: String, data: Data) throws -> Summary {
        try session.withTransaction { s in
            var summary = Summary()
            summary.batchID = try s.query(PostgresQuery("""
                INSERT INTO ingest_batches (source, file_name, checksum, format, contract_version)
                VALUES ('file', $1, $2, 'ndjson(feedback)', 'feedback-1') RETURNING id
                """, name: "FeedbackSQL.batch").binding(fileName, FeedbackDigest.sha256(Array(data)).map { String(format: "%02x", $0) }.joined()))[0]
                .decode(Int64.self, at: 0)
            let source = "file:" + (fileName as NSString).lastPathComponent
            var lineNumber = 0
            for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                lineNumber += 1
                var bytes = Array(line)
                if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
                if bytes.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }
                var recordType: String?, key: String?, customer: String?
                do {
                    let object = try FeedbackJSON.object(bytes)
                    if case .string(let c)? = object["customer_id"] { customer = c }
                    guard case .string(let typeText)? = object["type"], let kind = FeedbackKind(rawValue: typeText) else {
                        throw FeedbackProblem.field(422, "validation", "Invalid item", field: "type",
                                                    reason: "must be one of " + FeedbackKind.allCases.map(\.rawValue).joined(separator: ", "))
                    }
                    recordType = kind.rawValue
                    let item = try FeedbackItem.parse(kind, object, allowing: ["type"])
                    key = item.key
                    let outcome = try s.withTransaction { t in try FeedbackStore.submit(t, item, source: source) }
                    switch outcome.status {
                    case 201: summary.applied += 1
                    case 202: summary.pending += 1
                    default: summary.replayed += 1
                    }
                } catch let problem as FeedbackProblem {
                    summary.rejected += 1
                    let line = RejectedLine.store(String(decoding: bytes, as: UTF8.self))
                    try s.execute(PostgresQuery("""
                        INSERT INTO ingest_rejects (batch_id, customer_id, line_number, record_type, natural_key, field, reason,
                                                    raw_text, raw_text_enc, raw_text_key_id)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                        """, name: "FeedbackSQL.reject").binding(summary.batchID, customer, lineNumber, recordType, key,
                                                                 problem.errors.first?.field, problem.description,
                                                                 line.masked, line.sealed.map { Data($0) }, line.keyId))
                }
            }
            try s.execute(PostgresQuery("""
                UPDATE ingest_batches SET finished_at = now(), accepted = $2, rejected = $3, pending = $4, unchanged = $5 WHERE id = $1
                """, name: "FeedbackSQL.finishBatch").binding(summary.batchID, summary.applied, summary.rejected, summary.pending,
                                                              summary.replayed))
            return summary
        }
    }
}
