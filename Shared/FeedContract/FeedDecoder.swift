/// Streams a whole feed into records and rejects, in line order.
///
/// This is the one entry point ingest needs: give it a `FeedLineReader` (a file, stdin, an HTTP body)
/// and the format, and it calls `body` once per record or reject; blank lines produce nothing.
public enum FeedDecoder {
    /// Decodes every line of `reader`. Throws `FeedFileError` when the file as a whole cannot be used
    /// (read failure, bad CSV header), and whatever `body` throws.
    public static func decode(_ reader: FeedLineReader, format: FeedFormat, _ body: (FeedItem) throws -> Void) throws {
        switch format {
        case .ndjson:
            var parser = NDJSONLineParser()
            try reader.forEachLine { line in
                if let fault = line.fault {
                    try body(.reject(lineFaultReject(line.number, line.bytes, fault, type: nil)))
                    return
                }
                if line.isBlank { return }
                try body(parser.parse(line.bytes, lineNumber: line.number))
            }
        case .csv(let type):
            var processor = CSVFeedProcessor(type: type, maxRecordLength: reader.maxLineLength)
            try reader.forEachLine { line in try processor.line(line, body) }
            try processor.finish(body)
        }
    }

    /// Decodes a feed held in memory (an HTTP body, a test) into an array.
    public static func decode(bytes: [UInt8], format: FeedFormat,
                              maxLineLength: Int = FeedLineReader.defaultMaxLineLength) throws -> [FeedItem] {
        var items: [FeedItem] = []
        try decode(FeedLineReader(bytes: bytes, maxLineLength: maxLineLength), format: format) { items.append($0) }
        return items
    }
}
