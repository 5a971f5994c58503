// `JSONTextWriter` conformances of the signal, value and next-best-action documents: the same
// bytes as their `Encodable` under `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]`,
// keys written in UTF-8 byte order (`aum_by_product` < `aum_revenue`, `frequency` <
// `frequency_score`), nil optionals left out (the synthesized encoder's `encodeIfPresent`).
// Checked on generated books by `JSONTextDocumentsTests` (TierGuardStoreTests).

extension SignalCode: JSONTextEncodable {}
extension Recommendation.Kind: JSONTextEncodable {}
extension SuitabilityDecision.Reason: JSONTextEncodable {}

/// `{"fen":n}` for an amount, a bare integer for a number, a bare string for text.
extension SignalFigure: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) {
        switch self {
        case .fen(let amount):
            writer.beginObject()
            writer.key("fen")
            writer.int64(amount.value)
            writer.endObject()
        case .number(let n):
            writer.int64(n)
        case .text(let text):
            writer.string(text)
        }
    }
}

/// An object of figures keyed by name, in byte order of the names.
private func writeFigures(_ figures: [String: SignalFigure], to writer: inout JSONTextWriter) {
    writer.writeSortedObject(figures) { figure, w in figure.writeJSON(to: &w) }
}

private func writeStrings(_ strings: [String], to writer: inout JSONTextWriter) {
    writer.beginArray()
    for s in strings { writer.string(s) }
    writer.endArray()
}

/// An element of `customer_scores.signals` and the `signal` of a signal alert payload.
extension Signal: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("accounts")
        writeStrings(accounts, to: &writer)
        writer.key("code")
        writer.string(code.rawValue)
        writer.key("figures")
        writeFigures(figures, to: &writer)
        writer.key("reason")
        writer.string(reason)
        writer.endObject()
    }
}

/// `customer_scores.value`.
extension CustomerValue: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) throws {
        writer.beginObject()
        writer.key("activity")
        try activity.writeJSON(to: &writer)
        writer.key("contribution")
        contribution.writeJSON(to: &writer)
        writer.key("retention")
        try retention.writeJSON(to: &writer)
        writer.endObject()
    }
}

extension CustomerValue.Contribution: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("aum_by_product")
        writer.writeSortedObject(aumByProduct) { fen, w in w.int64(fen.value) }
        writer.key("aum_revenue")
        writer.int64(aumRevenue.value)
        writer.key("fee_income")
        writer.int64(feeIncome.value)
        writer.key("revenue_by_product")
        writer.writeSortedObject(revenueByProduct) { fen, w in w.int64(fen.value) }
        writer.key("total")
        writer.int64(total.value)
        writer.endObject()
    }
}

extension CustomerValue.Activity: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) throws {
        writer.beginObject()
        writer.key("frequency")
        writer.int(frequency)
        writer.key("frequency_score")
        try writer.double(frequencyScore)
        if let lastActivityOn {
            writer.key("last_activity_on")
            writer.date(lastActivityOn)
        }
        writer.key("monetary")
        writer.int64(monetary.value)
        writer.endObject()
    }
}

extension CustomerValue.RetentionRisk: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) throws {
        writer.beginObject()
        writer.key("codes")
        writeStrings(codes, to: &writer)
        writer.key("linear_score")
        try writer.double(linearScore)
        writer.key("probability")
        try writer.double(probability)
        writer.endObject()
    }
}

/// An element of `customer_scores.recommendations`.
extension Recommendation: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("because")
        writeStrings(because, to: &writer)
        writer.key("code")
        writer.string(code)
        writer.key("figures")
        writeFigures(figures, to: &writer)
        writer.key("kind")
        writer.string(kind.rawValue)
        writer.key("rank")
        writer.int(rank)
        writer.key("reason")
        writer.string(reason)
        writer.endObject()
    }
}

/// An element of `customer_scores.suitability`: levels as their codes, as `encode(to:)` writes them.
extension SuitabilityDecision: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("allowed")
        writer.bool(allowed)
        writer.key("assessment_expired")
        writer.bool(assessmentExpired)
        writer.key("customer_level")
        writer.string(customerLevel.code)
        writer.key("product_code")
        writer.string(productCode)
        writer.key("product_level")
        writer.string(productLevel.code)
        writer.key("reason")
        writer.string(reason.rawValue)
        writer.endObject()
    }
}
