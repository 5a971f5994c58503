import Foundation
import Postgres
import ServiceKit

/// The feedback service's HTTP API on the ServiceKit listener. One route per item kind, each a
/// `POST` of one JSON object:
///
/// | route | kind | scope |
/// | --- | --- | --- |
/// | `/v1/surveys` | survey | `surveys:write` |
/// | `/v1/complaints` | complaint | `complaints:write` |
/// | `/v1/complaint-events` | complaint_event | `complaints:write` |
/// | `/v1/visits` | visit | `visits:write` |
/// | `/v1/preferences` | preference | `preferences:write` |
/// | `/v1/alert-feedback` | alert_feedback | `alerts:feedback` |
///
/// Checks, in this order, each refusal an RFC 9457 `application/problem+json`: 401 without a valid
/// bearer token, 403 without the route's scope, 415 unless `Content-Type` is `application/json`,
/// 413 over `maxBodyBytes` (64 KiB; the listener itself stops at 1 MiB), 400 not a JSON object,
/// 422 invalid fields (unknown fields named), 404/409/422 refusals from the store. Answers come
/// after the commit: 201 applied, 202 kept pending (unknown customer), 200 a replay.
/// Logs carry kinds, ids and statuses only, never a comment or description.
public struct FeedbackAPI: Sendable {
    public static let maxBodyBytes = 64 * 1024
    public static let routes: [(path: String, kind: FeedbackKind)] = [
        ("/v1/surveys", .survey), ("/v1/complaints", .complaint), ("/v1/complaint-events", .complaintEvent),
        ("/v1/visits", .visit), ("/v1/preferences", .preference), ("/v1/alert-feedback", .alertFeedback),
    ]

    public let pool: FeedbackPool
    public let tokens: FeedbackTokens
    public let logger: Logger

    public init(pool: FeedbackPool, tokens: FeedbackTokens, logger: Logger) {
        self.pool = pool; self.tokens = tokens; self.logger = logger
    }

    public func register(on server: HTTPServer) {
        for (path, kind) in Self.routes {
            server.route("POST", path) { request in await self.handle(request, kind: kind) }
        }
    }

    public static func problemResponse(_ problem: FeedbackProblem) -> HTTPResponse {
        var headers: HTTPHeaders = ["Content-Type": "application/problem+json"]
        if problem.status == 401 { headers.add("WWW-Authenticate", "Bearer realm=\"tierguard-feedback\"") }
        return HTTPResponse(status: problem.status, headers: headers, body: problem.jsonBody)
    }

    func handle(_ request: HTTPRequest, kind: FeedbackKind) async -> HTTPResponse {
        let caller: String
        switch tokens.verify(authorization: request.headers["Authorization"]) {
        case .missing:
            return Self.problemResponse(FeedbackProblem(401, "unauthorized", "Bearer token required", "send Authorization: Bearer <token>"))
        case .invalid:
            return Self.problemResponse(FeedbackProblem(401, "unauthorized", "Bearer token not recognised", "the token matches no calling system"))
        case .allowed(let name, let scopes):
            guard scopes.contains(kind.scope) else {
                return Self.problemResponse(FeedbackProblem(403, "forbidden", "Scope missing",
                                                            "calling system \(name) lacks scope \(kind.scope)"))
            }
            caller = name
        }
        let contentType = (request.headers["Content-Type"] ?? "").split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        guard contentType == "application/json" else {
            return Self.problemResponse(FeedbackProblem(415, "unsupported-media-type", "Unsupported media type",
                                                        "send Content-Type: application/json"))
        }
        guard request.body.count <= Self.maxBodyBytes else {
            return Self.problemResponse(FeedbackProblem(413, "payload-too-large", "Body too large",
                                                        "at most \(Self.maxBodyBytes) bytes per item"))
        }
        do {
            let item = try FeedbackItem.parse(kind, try FeedbackJSON.object(request.body))
            // A new survey of a known customer: one statement (FeedbackSurveyFastPath); anything else, or
            // when that statement stored nothing, the general path in one transaction.
            var fast: FeedbackOutcome?
            if case .survey(let survey) = item.payload {
                fast = try await pool.withSession { session in
                    try FeedbackSurveyFastPath.submit(session, item, survey, source: caller)
                }
            }
            let outcome: FeedbackOutcome
            if let fast {
                outcome = fast
            } else {
                outcome = try await pool.withTransaction { session in try FeedbackStore.submit(session, item, source: caller) }
            }
            logger.debug("feedback item", metadata: ["kind": kind.rawValue, "key": item.key, "status": String(outcome.status),
                                                      "caller": caller])
            return HTTPResponse(status: outcome.status, headers: ["Content-Type": "application/json"], body: Array(outcome.body.utf8))
        } catch let problem as FeedbackProblem {
            logger.info("feedback item refused", metadata: ["kind": kind.rawValue, "status": String(problem.status),
                                                             "problem": problem.code, "caller": caller])
            return Self.problemResponse(problem)
        } catch {
            logger.error("feedback item failed", metadata: ["kind": kind.rawValue, "error": String(describing: error)])
            return Self.problemResponse(FeedbackProblem(500, "internal", "Internal error", "the item was not stored; retry later"))
        }
    }
}
