// `JSONTextWriter` conformances of the tier assessment's documents: the same bytes as their
// `Encodable` under `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]`, keys written in
// UTF-8 byte order, nil optionals left out (the synthesized encoder's `encodeIfPresent`).
// Checked on generated books by `JSONTextDocumentsTests` (TierGuardStoreTests).

/// Its stable `code` (`"private"`), as `Tier.encode(to:)` writes it.
extension Tier: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) { writer.string(code) }
}

extension MonthAum: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("days")
        writer.int(days)
        writer.key("is_before_first_balance")
        writer.bool(isBeforeFirstBalance)
        writer.key("month")
        month.writeJSON(to: &writer)
        writer.key("projected_days")
        writer.int(projectedDays)
        writer.key("projected_sum")
        writer.int64(projectedSum)
        writer.key("sum")
        writer.int64(sum)
        writer.endObject()
    }
}

/// `customer_scores.warning` and the `warning` of a `downgrade_risk` alert payload.
extension DowngradeWarning: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("best_month")
        bestMonth.writeJSON(to: &writer)
        writer.key("date")
        writer.date(date)
        writer.key("extra_daily_average_needed")
        writer.int64(extraDailyAverageNeeded.value)
        writer.key("floor")
        writer.int64(floor.value)
        writer.key("from_tier")
        writer.string(fromTier.code)
        if let gap {
            writer.key("gap")
            writer.int64(gap.value)
        }
        if let gapMonth {
            writer.key("gap_month")
            gapMonth.writeJSON(to: &writer)
        }
        writer.key("to_tier")
        writer.string(toTier.code)
        writer.key("window")
        writer.beginArray()
        for month in window { month.writeJSON(to: &writer) }
        writer.endArray()
        writer.endObject()
    }
}
