import Foundation

/// The kinds of item the feedback service takes, over HTTP and in NDJSON files (field `type`).
public enum FeedbackKind: String, Sendable, CaseIterable {
    case survey, complaint
    case complaintEvent = "complaint_event"
    case visit, preference
    case alertFeedback = "alert_feedback"

    /// The scope a calling system needs to submit this kind.
    public var scope: String {
        switch self {
        case .survey: "surveys:write"
        case .complaint, .complaintEvent: "complaints:write"
        case .visit: "visits:write"
        case .preference: "preferences:write"
        case .alertFeedback: "alerts:feedback"
        }
    }
}

/// One validated item. Timestamps stay RFC 3339 text (validated here, stored by PostgreSQL as
/// timestamptz); money is fen. Free-text fields (`comment`, `description`, `decision`, `reason`,
/// `note`) are personal data: never logged, never echoed in answers.
public struct FeedbackItem: Sendable {
    public struct Survey: Sendable { public var surveyID, customerID, kind: String; public var score: Int64; public var touchpoint, answeredAt: String; public var comment: String? }
    public struct Complaint: Sendable {
        public var complaintID, customerID, receivedAt, channel, category, severity: String
        public var description, namedStaffID, handlerID: String?
    }
    public struct ComplaintEvent: Sendable {
        public var eventID, complaintID, type: String
        public var occurredAt: String
        public var handlerID, approvedBy, reason, customerNotifiedAt, decision, causeCode, correctiveAction: String?
    }
    public struct Visit: Sendable {
        public var visitID, customerID, rmID, visitedAt, method, outcome: String
        public var amountFen: Int64?
        public var alertID, taskID: Int64?
        public var note: String?
    }
    public struct Preference: Sendable {
        public var preferenceID, customerID, channel, recordedAt: String
        public var marketingOptOut, automatedProfilingRefused: Bool?
    }
    public struct AlertFeedback: Sendable { public var alertID: Int64; public var useful: Bool; public var reasonCode: String; public var rmID: String? }

    public enum Payload: Sendable {
        case survey(Survey), complaint(Complaint), complaintEvent(ComplaintEvent), visit(Visit)
        case preference(Preference), alertFeedback(AlertFeedback)
    }

    public var kind: FeedbackKind
    /// The idempotency key: survey_id, complaint_id, event_id, visit_id, preference_id or alert_id.
    public var key: String
    public var payload: Payload
    /// The validated object as received (without `type`), kept for pending items and hashed for replays.
    public var object: [String: FeedbackJSON]

    /// The customer the item is about, when the item names it (events and alert feedback do not).
    public var customerID: String? {
        switch payload {
        case .survey(let s): s.customerID
        case .complaint(let c): c.customerID
        case .visit(let v): v.customerID
        case .preference(let p): p.customerID
        case .complaintEvent, .alertFeedback: nil
        }
    }

    public var requestHash: String { FeedbackDigest.sha256Hex(kind.rawValue + "\n" + FeedbackJSON.canonical(object)) }

    public static let eventTypes = ["assigned", "acknowledged", "extended", "decided", "informed", "closed"]

    /// Validates `object` as a `kind` item; every fault is reported (422), unknown fields by name.
    /// `allowing` names extra fields tolerated (the NDJSON `type`).
    public static func parse(_ kind: FeedbackKind, _ object: [String: FeedbackJSON], allowing extra: Set<String> = [])
        throws(FeedbackProblem) -> FeedbackItem
    {
        var r = FieldReader(object)
        let payload: Payload
        let key: String?
        switch kind {
        case .survey:
            let id = r.identifier("survey_id"), customer = r.identifier("customer_id")
            let surveyKind = r.choice("kind", ["csat", "nps"])
            var score: Int64?
            if let surveyKind { score = r.integer("score", in: surveyKind == "csat" ? 1...5 : 0...10) } else { _ = r.integer("score") }
            let touchpoint = r.identifier("touchpoint"), answered = r.timestamp("answered_at")
            let comment = r.string("comment", required: false, maxLength: 2000)
            key = id
            payload = .survey(Survey(surveyID: id ?? "", customerID: customer ?? "", kind: surveyKind ?? "", score: score ?? 0,
                                     touchpoint: touchpoint ?? "", answeredAt: answered ?? "", comment: comment))
        case .complaint:
            let id = r.identifier("complaint_id"), customer = r.identifier("customer_id")
            let received = r.timestamp("received_at"), channel = r.identifier("channel"), category = r.identifier("category")
            let severity = r.choice("severity", ["low", "medium", "high"])
            let description = r.string("description", required: false, maxLength: 4000)
            let named = r.identifier("named_staff_id", required: false), handler = r.identifier("handler_id", required: false)
            key = id
            payload = .complaint(Complaint(complaintID: id ?? "", customerID: customer ?? "", receivedAt: received ?? "",
                                           channel: channel ?? "", category: category ?? "", severity: severity ?? "",
                                           description: description, namedStaffID: named, handlerID: handler))
        case .complaintEvent:
            let id = r.identifier("event_id"), complaint = r.identifier("complaint_id")
            let type = r.choice("type", eventTypes)
            let at = r.timestamp("occurred_at")
            var event = ComplaintEvent(eventID: id ?? "", complaintID: complaint ?? "", type: type ?? "", occurredAt: at ?? "")
            // Each type's own fields; fields of other types are unknown for this one.
            switch type {
            case "assigned": event.handlerID = r.identifier("handler_id")
            case "acknowledged": event.handlerID = r.identifier("handler_id", required: false)
            case "extended":
                // approver and notice are checked by the clock (a clear `extension-refused` problem).
                event.approvedBy = r.identifier("approved_by", required: false)
                event.reason = r.string("reason", maxLength: 2000)
                event.customerNotifiedAt = r.timestamp("customer_notified_at", required: false)
            case "decided": event.decision = r.string("decision", maxLength: 4000)
            case "closed":
                event.causeCode = r.identifier("cause_code")
                event.correctiveAction = r.string("corrective_action", maxLength: 4000)
            default: break
            }
            key = id
            payload = .complaintEvent(event)
        case .visit:
            let id = r.identifier("visit_id"), customer = r.identifier("customer_id"), rm = r.identifier("rm_id")
            let at = r.timestamp("visited_at"), method = r.choice("method", ["phone", "in_person", "wecom"])
            let outcome = r.choice("outcome", ["retained", "committed_deposit", "declined", "not_reached"])
            var amount: Int64?
            if outcome == "committed_deposit" { amount = r.money("amount") }
            else if object["amount"] != nil, object["amount"] != .null { _ = r.money("amount"); r.fail("amount", "only for outcome committed_deposit") }
            let alert = r.integer("alert_id", in: 1...Int64.max, required: false)
            let task = r.integer("task_id", in: 1...Int64.max, required: false)
            let note = r.string("note", required: false, maxLength: 2000)
            key = id
            payload = .visit(Visit(visitID: id ?? "", customerID: customer ?? "", rmID: rm ?? "", visitedAt: at ?? "",
                                   method: method ?? "", outcome: outcome ?? "", amountFen: amount, alertID: alert, taskID: task, note: note))
        case .preference:
            let id = r.identifier("preference_id"), customer = r.identifier("customer_id")
            let channel = r.identifier("channel"), at = r.timestamp("recorded_at")
            let marketing = r.bool("marketing_opt_out", required: false)
            let profiling = r.bool("automated_profiling_refused", required: false)
            if marketing == nil, profiling == nil, object["marketing_opt_out"] == nil, object["automated_profiling_refused"] == nil {
                r.fail("marketing_opt_out", "one of marketing_opt_out, automated_profiling_refused is required")
            }
            key = id
            payload = .preference(Preference(preferenceID: id ?? "", customerID: customer ?? "", channel: channel ?? "",
                                             recordedAt: at ?? "", marketingOptOut: marketing, automatedProfilingRefused: profiling))
        case .alertFeedback:
            let alert = r.integer("alert_id", in: 1...Int64.max), useful = r.bool("useful")
            let reason = r.identifier("reason_code"), rm = r.identifier("rm_id", required: false)
            key = alert.map { String($0) }
            payload = .alertFeedback(AlertFeedback(alertID: alert ?? 0, useful: useful ?? false, reasonCode: reason ?? "", rmID: rm))
        }
        r.rejectUnknown(allowing: extra)
        guard r.errors.isEmpty, let key else { throw FeedbackProblem.validation(r.errors) }
        var kept = object
        for name in extra { kept[name] = nil }
        return FeedbackItem(kind: kind, key: key, payload: payload, object: kept)
    }
}
