/// `"YYYY-MM-DD"`, as `CalendarDate`'s `Encodable` writes it (byte equality: `JSONTextWriterTests`).
extension CalendarDate: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) { writer.date(self) }
}

/// The synthesized `Encodable` of `YearMonth`: `{"month":11,"year":2026}` (keys in byte order).
extension YearMonth: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("month")
        writer.int(month)
        writer.key("year")
        writer.int(year)
        writer.endObject()
    }
}
