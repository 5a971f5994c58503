import TierGuardModel

/// An alert's `payload`, with the same bytes as `AlertCondition.Payload.encode(to:)` under
/// `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]` (keys in UTF-8 byte order:
/// `kind`, `signal`, `tier`, `warning`). Checked by `JSONTextDocumentsTests`.
extension AlertCondition.Payload: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) {
        writer.beginObject()
        switch self {
        case .downgrade(let warning, let tier):
            writer.key("kind")
            writer.string("downgrade_risk")
            writer.key("tier")
            writer.string(tier.code)
            writer.key("warning")
            warning.writeJSON(to: &writer)
        case .signal(let signal, let tier):
            writer.key("kind")
            writer.string(signal.code.rawValue)
            writer.key("signal")
            signal.writeJSON(to: &writer)
            writer.key("tier")
            writer.string(tier.code)
        }
        writer.endObject()
    }
}
