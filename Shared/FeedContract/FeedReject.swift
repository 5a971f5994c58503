/// A feed line (or CSV record) that is not a valid record: kept with its line, raw text and a reason.
///
/// `reason` is written for the operations team and is safe to log: it names the line and the field,
/// quotes non-personal values verbatim and masks personal ones (`id_number 110105********0021`,
/// `phone 138****5678`; names, e-mail addresses and descriptions are never quoted). `rawText` is the
/// line itself and may hold personal data: store it like the archive stores identifiers, never log it.
public struct FeedReject: Hashable, Sendable, Error, CustomStringConvertible {
    /// The physical line number, from 1 (for a CSV record spanning lines: its first line).
    public var lineNumber: Int
    /// `line 12: id_number 110105********0021: check digit should be X`.
    public var reason: String
    /// The contract field at fault, or nil for a line-level fault (encoding, JSON syntax, length).
    public var field: String?
    /// The record type when the line got far enough to say it.
    public var recordType: FeedRecordType?
    /// The line as text: invalid UTF-8 and NUL bytes shown as U+FFFD, an overlong line cut to its
    /// first 4,096 bytes plus `…`, the value of a C3 authentication field replaced by `***`.
    public var rawText: String
    /// For a CSV line whose fields split and matched the header: the values it gave for the contract's
    /// identifier columns (`FeedReject.identifierFields`), so the reject still says whose it is. An
    /// NDJSON line carries its names in `rawText` instead. Identifiers only, never personal data.
    public var identifiers: [String: String]

    /// The columns copied into `identifiers`: customer_id, account_id, as_of, txn_id, rm_id.
    static let identifierFields: [FeedField] = [.customerId, .accountId, .asOf, .txnId, .rmId]

    public init(lineNumber: Int, reason: String, field: String? = nil, recordType: FeedRecordType? = nil, rawText: String,
                identifiers: [String: String] = [:]) {
        self.lineNumber = lineNumber
        self.reason = reason
        self.field = field
        self.recordType = recordType
        self.rawText = rawText
        self.identifiers = identifiers
    }

    public var description: String { reason }
}

/// What a feed line turns into: a record or a reject. Blank lines turn into nothing.
public enum FeedItem: Hashable, Sendable {
    case record(FeedRecord, lineNumber: Int)
    case reject(FeedReject)

    public var lineNumber: Int {
        switch self {
        case .record(_, let line): line
        case .reject(let reject): reject.lineNumber
        }
    }

    public var record: FeedRecord? {
        if case .record(let record, _) = self { return record }
        return nil
    }

    public var reject: FeedReject? {
        if case .reject(let reject) = self { return reject }
        return nil
    }
}

/// A fault of a whole feed file, which then yields no records at all (ingest moves it to `failed/`).
public struct FeedFileError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The CSV header row is malformed, repeats a column, names a C3 field or lacks a required column.
        case badCSVHeader
        /// Reading the file failed (errno in the message).
        case readFailed
        /// The file is not UTF-8 (it looks GBK-encoded: `FeedLineReader.refusesGBK`), or it cannot be transcoded.
        case notUTF8
    }

    public var code: Code
    /// What, where and how to fix; no personal data.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
