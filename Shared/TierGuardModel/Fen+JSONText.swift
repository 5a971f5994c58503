/// A bare integer of fen, as `Fen`'s `Encodable` writes it (byte equality: `JSONTextWriterTests`).
extension Fen: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) { writer.int64(value) }
}
