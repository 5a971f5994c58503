import CLibCrypto
import FeedContract
import PersonalDataVault
import TierGuardModel

/// Turns decoded feed items into rows of the one staging table `tg_stg`, in COPY text format.
///
/// Why one table: a COPY owns its connection until it ends, and an NDJSON feed mixes record types, so
/// every item goes down one COPY stream into a temp table partitioned by record type (`rt`), one
/// partition per type, which the apply step then reads one at a time. Columns come in one contiguous
/// block per type (prefix `c_` customer, `a_` account, `b_` balance, `t_` transaction, `r_` RM,
/// `x_` reject); a row fills its own block and writes `\N` for the others.
///
/// The content hash (MD5 of the record's block as written, 16 bytes, last column `h`) is what the
/// archive compares to decide unchanged versus changed: the block is canonical (fen integers, ISO
/// dates, UTC timestamps with every fraction digit the feed gave), so equal content gives equal bytes.
/// MD5 detects change here; it guards nothing against an attacker (who would have to control the
/// upstream feed anyway).
///
/// Personal identifiers (customer `id_number` and `phone`, RM `mobile`) never reach PostgreSQL in
/// plaintext, not even this temp table: each is written as its blind index (`*_hmac`, inside the hashed
/// block, so change detection sees a changed identifier) and, after the hashed block, as its sealed value
/// and key id (`*_enc`, `*_key_id`: outside the hash, because a fresh GCM nonce makes every encryption of
/// the same value differ). See `PersonalDataVault`.
struct StagingRowWriter {
    /// The staging columns in COPY order (without the defaulted `counted`).
    static let columns: [String] = ["line", "rt"] + customerColumns + accountColumns + balanceColumns
        + transactionColumns + rmColumns + rejectColumns + ["h"]
    static let customerColumns = ["c_customer_id", "c_name", "c_id_type", "c_id_number_hmac", "c_phone_hmac",
                                  "c_birth_date", "c_gender", "c_risk_level", "c_risk_assessed_on", "c_annual_income_fen",
                                  "c_rm_id", "c_branch_id", "c_opened_on", "c_status", "c_marketing_opt_out",
                                  "c_id_number_enc", "c_id_number_key_id", "c_phone_enc", "c_phone_key_id"]
    static let accountColumns = ["a_account_id", "a_customer_id", "a_product", "a_product_code", "a_currency",
                                 "a_opened_on", "a_maturity_on", "a_closed_on"]
    static let balanceColumns = ["b_account_id", "b_as_of", "b_balance_fen"]
    static let transactionColumns = ["t_txn_id", "t_account_id", "t_booked_at", "t_booked_on", "t_amount_fen",
                                     "t_category", "t_channel", "t_counterparty_bank", "t_description"]
    static let rmColumns = ["r_rm_id", "r_name", "r_branch_id", "r_manager_rm_id", "r_wecom_userid", "r_email",
                            "r_mobile_hmac", "r_active", "r_mobile_enc", "r_mobile_key_id"]
    static let rejectColumns = ["x_record_type", "x_field", "x_reason", "x_raw_text", "x_customer_id", "x_account_id",
                                "x_natural_key", "x_raw_text_enc", "x_raw_text_key_id"]

    /// Column types for `CREATE TEMP TABLE tg_stg`.
    static let columnTypes: [String: String] = [
        "line": "integer", "rt": "\"char\"", "h": "bytea",
        "c_birth_date": "date", "c_risk_assessed_on": "date", "c_annual_income_fen": "bigint", "c_opened_on": "date",
        "c_marketing_opt_out": "boolean", "a_opened_on": "date", "a_maturity_on": "date", "a_closed_on": "date",
        "b_as_of": "date", "b_balance_fen": "bigint", "t_booked_at": "timestamptz", "t_booked_on": "date",
        "t_amount_fen": "bigint", "r_active": "boolean",
        "c_id_number_hmac": "bytea", "c_phone_hmac": "bytea", "c_id_number_enc": "bytea", "c_phone_enc": "bytea",
        "r_mobile_hmac": "bytea", "r_mobile_enc": "bytea", "x_raw_text_enc": "bytea",
    ]

    private static func nullRun(_ count: Int) -> [UInt8] { Array(repeating: Array("\t\\N".utf8), count: count).flatMap { $0 } }
    private static let nullsBeforeAccount = nullRun(customerColumns.count)
    private static let nullsBeforeBalance = nullRun(customerColumns.count + accountColumns.count)
    private static let nullsBeforeTransaction = nullRun(customerColumns.count + accountColumns.count + balanceColumns.count)
    private static let nullsBeforeRM = nullRun(customerColumns.count + accountColumns.count + balanceColumns.count
                                               + transactionColumns.count)
    private static let nullsBeforeReject = nullRun(customerColumns.count + accountColumns.count + balanceColumns.count
                                                   + transactionColumns.count + rmColumns.count)
    private static let nullsAfterCustomer = nullRun(columns.count - 3 - customerColumns.count)
    private static let nullsAfterAccount = nullRun(columns.count - 3 - customerColumns.count - accountColumns.count)
    private static let nullsAfterBalance = nullRun(rmColumns.count + rejectColumns.count + transactionColumns.count)
    private static let nullsAfterTransaction = nullRun(rmColumns.count + rejectColumns.count)
    private static let nullsAfterRM = nullRun(rejectColumns.count)

    private(set) var row: [UInt8] = []
    private let md: OpaquePointer
    private let ctx: OpaquePointer
    private let vault: PersonalDataVault
    private static let hex = Array("0123456789abcdef".utf8)

    init(vault: PersonalDataVault = .process) {
        self.vault = vault
        row.reserveCapacity(1024)
        md = EVP_md5()
        ctx = EVP_MD_CTX_new()
    }

    func release() { EVP_MD_CTX_free(ctx) }

    /// Builds the row of one item into `row` (ending in `\n`).
    mutating func build(_ item: FeedItem) {
        row.removeAll(keepingCapacity: true)
        switch item {
        case .record(let record, let line):
            switch record {
            case .customer(let c):
                prefix(line, "c")
                let start = row.count
                text(c.customerId); text(c.name); text(c.idType.rawValue)
                blindIndex(c.idNumber, .idNumber); blindIndex(c.phone, .phone)
                date(c.birthDate); text(c.gender); text(c.riskLevel.code); date(c.riskAssessedOn)
                int(c.annualIncome?.value); text(c.rmId); text(c.branchId); date(c.openedOn); text(c.status.rawValue)
                bool(c.marketingOptOut)
                let end = row.count
                sealed(c.idNumber, .idNumber); sealed(c.phone, .phone)
                row.append(contentsOf: Self.nullsAfterCustomer)
                hash(start, end)
            case .account(let a):
                prefix(line, "a")
                row.append(contentsOf: Self.nullsBeforeAccount)
                let start = row.count
                text(a.accountId); text(a.customerId); text(a.product.rawValue); text(a.productCode); text(a.currency)
                date(a.openedOn); date(a.maturityOn); date(a.closedOn)
                let end = row.count
                row.append(contentsOf: Self.nullsAfterAccount)
                hash(start, end)
            case .balance(let b):
                prefix(line, "b")
                row.append(contentsOf: Self.nullsBeforeBalance)
                let start = row.count
                text(b.accountId); date(b.asOf); int(b.balance.value)
                let end = row.count
                row.append(contentsOf: Self.nullsAfterBalance)
                hash(start, end)
            case .transaction(let t):
                prefix(line, "t")
                row.append(contentsOf: Self.nullsBeforeTransaction)
                let start = row.count
                text(t.txnId); text(t.accountId); timestamp(t.bookedAtEpochSeconds, t.bookedAtNanos)
                date(t.bookedOnShanghai); int(t.amount.value); text(t.category.rawValue); text(t.channel.rawValue)
                text(t.counterpartyBank); text(t.description)
                let end = row.count
                row.append(contentsOf: Self.nullsAfterTransaction)
                hash(start, end)
            case .relationshipManager(let r):
                prefix(line, "r")
                row.append(contentsOf: Self.nullsBeforeRM)
                let start = row.count
                text(r.rmId); text(r.name); text(r.branchId); text(r.managerRmId); text(r.wecomUserid); text(r.email)
                blindIndex(r.mobile, .phone); bool(r.active)
                let end = row.count
                sealed(r.mobile, .phone)
                row.append(contentsOf: Self.nullsAfterRM)
                hash(start, end)
            }
        case .reject(let reject):
            prefix(reject.lineNumber, "x")
            row.append(contentsOf: Self.nullsBeforeReject)
            // The line in the clear only masked (Masking.feedLine); as received only sealed.
            text(reject.recordType?.rawValue); text(reject.field); text(reject.reason); text(Masking.feedLine(reject.rawText))
            let keys = RejectKeys(reject)
            text(keys.customerId); text(keys.accountId); text(keys.naturalKey)
            sealed(reject.rawText, .rejectedLine)
            row.append(contentsOf: Array("\t\\N".utf8))
        }
        row.append(0x0A)
    }

    private mutating func prefix(_ line: Int, _ rt: Character) {
        digits(Int64(line))
        row.append(0x09)
        row.append(rt.asciiValue!)
    }

    private mutating func hash(_ start: Int, _ end: Int) {
        var digest = [UInt8](repeating: 0, count: 16)
        var length: UInt32 = 0
        row.withUnsafeBufferPointer { buffer in
            _ = EVP_DigestInit_ex(ctx, md, nil)
            _ = EVP_DigestUpdate(ctx, buffer.baseAddress! + start, end - start)
            _ = EVP_DigestFinal_ex(ctx, &digest, &length)
        }
        row.append(contentsOf: [0x09, 0x5C, 0x5C, 0x78])  // \t\\x
        for byte in digest {
            row.append(Self.hex[Int(byte >> 4)]); row.append(Self.hex[Int(byte & 15)])
        }
    }

    /// `\\x` + hex of the value's blind index, or `\N`.
    private mutating func blindIndex(_ value: String?, _ field: PersonalField) {
        bytea(value.map { vault.blindIndex($0, field: field) })
    }

    /// The sealed value and its key id (two columns), or two `\N`.
    private mutating func sealed(_ value: String?, _ field: PersonalField) {
        guard let value else { bytea(nil); text(nil); return }
        let sealed: SealedValue
        do { sealed = try vault.seal(value, field: field) } catch {
            // Only RAND_bytes/EVP failing gets here (the library is broken); the error holds no value.
            fatalError("\(error)")
        }
        bytea(sealed.bytes); text(sealed.keyId)
    }

    private mutating func bytea(_ bytes: [UInt8]?) {
        row.append(0x09)
        guard let bytes else { row.append(0x5C); row.append(0x4E); return }
        row.append(contentsOf: [0x5C, 0x5C, 0x78])  // \\x
        for byte in bytes {
            row.append(Self.hex[Int(byte >> 4)]); row.append(Self.hex[Int(byte & 15)])
        }
    }

    private mutating func text(_ value: String?) {
        row.append(0x09)
        guard var value else { row.append(0x5C); row.append(0x4E); return }
        value.withUTF8 { bytes in
            var needsEscape = false
            for b in bytes where b == 0x5C || b == 0x09 || b == 0x0A || b == 0x0D { needsEscape = true; break }
            if !needsEscape { row.append(contentsOf: bytes); return }
            for b in bytes {
                switch b {
                case 0x5C: row.append(0x5C); row.append(0x5C)
                case 0x09: row.append(0x5C); row.append(0x74)
                case 0x0A: row.append(0x5C); row.append(0x6E)
                case 0x0D: row.append(0x5C); row.append(0x72)
                default: row.append(b)
                }
            }
        }
    }

    private mutating func int(_ value: Int64?) {
        row.append(0x09)
        guard let value else { row.append(0x5C); row.append(0x4E); return }
        digits(value)
    }

    private mutating func bool(_ value: Bool) {
        row.append(0x09)
        row.append(value ? 0x74 : 0x66)
    }

    private mutating func date(_ value: CalendarDate?) {
        row.append(0x09)
        guard let value else { row.append(0x5C); row.append(0x4E); return }
        ymd(value)
    }

    private mutating func ymd(_ d: CalendarDate) {
        pad(d.year, 4); row.append(0x2D); pad(d.month, 2); row.append(0x2D); pad(d.day, 2)
    }

    /// `YYYY-MM-DD HH:MM:SS[.ffffff]+00`: UTC, to the microsecond — truncated, because PostgreSQL would
    /// round a 7th–9th digit, and `23:59:59.9999999` would become the next day (the validator already
    /// truncates: `RFC3339Timestamp.truncatedToMicroseconds`).
    private mutating func timestamp(_ seconds: Int64, _ nanos: Int32) {
        row.append(0x09)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = Int(seconds - days * 86_400)
        ymd(CalendarDate(dayNumber: Int(days)))
        row.append(0x20)
        pad(rest / 3600, 2); row.append(0x3A); pad(rest / 60 % 60, 2); row.append(0x3A); pad(rest % 60, 2)
        if nanos >= 1_000 { row.append(0x2E); pad(Int(nanos) / 1_000, 6) }
        row.append(contentsOf: [0x2B, 0x30, 0x30])
    }

    private mutating func pad(_ value: Int, _ width: Int) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor > 0 { row.append(UInt8(0x30 + (value / divisor) % 10)); divisor /= 10 }
    }

    private mutating func digits(_ value: Int64) {
        if value == 0 { row.append(0x30); return }
        var v = value.magnitude
        if value < 0 { row.append(0x2D) }
        var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                  UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &tmp) { buf in
            while v > 0 { buf[n] = UInt8(0x30 + v % 10); v /= 10; n += 1 }
            var i = n - 1
            while i >= 0 { row.append(buf[i]); i -= 1 }
        }
    }
}

/// What a refused NDJSON line still says about whose it is, for `ingest_rejects.customer_id` and
/// `natural_key`: the string values of `customer_id`, `account_id` (the apply step turns a known
/// account into its customer) and the record type's key fields, when the line is a JSON object and the
/// value is a plain string (no escapes) of 1–64 printable ASCII characters; a `customer_id` must also
/// match the contract (1–32 of `[A-Za-z0-9_-]`). A CSV line gives the same values through
/// `FeedReject.identifiers` (its cells, when they line up with the header), under the same rules.
/// Anything else stays null: a line that is not JSON, an escaped value, a CSV line whose fields do not
/// split. Rejects are rare, so this scan costs nothing on the bulk path.
struct RejectKeys {
    var customerId: String?
    var accountId: String?
    var naturalKey: String?

    init(_ reject: FeedReject) {
        let value: (String) -> String?
        if !reject.identifiers.isEmpty {
            value = { name in reject.identifiers[name].flatMap(Self.plainValue) }
        } else {
            let raw = Array(reject.rawText.utf8)
            guard raw.first(where: { $0 != 0x20 && $0 != 0x09 }) == 0x7B else { return }  // '{'
            value = { name in Self.stringValue(raw, name) }
        }
        if let id = value("customer_id"), id.utf8.count <= 32, id.utf8.allSatisfy({ Self.isIdentifierByte($0) }) {
            customerId = id
        }
        accountId = value("account_id")
        switch reject.recordType {
        case .customer?: naturalKey = customerId
        case .account?: naturalKey = accountId
        case .balance?:
            if let account = accountId, let asOf = value("as_of") { naturalKey = account + " " + asOf }
        case .transaction?: naturalKey = value("txn_id")
        case .relationshipManager?: naturalKey = value("rm_id")
        case nil: break
        }
    }

    /// A CSV cell kept as an identifier: 1–64 printable ASCII characters, no backslash.
    static func plainValue(_ cell: String) -> String? {
        let bytes = cell.utf8
        guard !bytes.isEmpty, bytes.count <= 64, bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x5C }) else { return nil }
        return cell
    }

    static func isIdentifierByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
    }

    /// The first `"name": "value"` of the line, as described above.
    static func stringValue(_ raw: [UInt8], _ name: String) -> String? {
        let needle = Array(("\"" + name + "\"").utf8)
        var i = 0
        outer: while i + needle.count <= raw.count {
            for k in 0..<needle.count where raw[i + k] != needle[k] { i += 1; continue outer }
            var j = i + needle.count
            while j < raw.count, raw[j] == 0x20 || raw[j] == 0x09 { j += 1 }
            guard j < raw.count, raw[j] == 0x3A else { i += 1; continue }  // ':'
            j += 1
            while j < raw.count, raw[j] == 0x20 || raw[j] == 0x09 { j += 1 }
            guard j < raw.count, raw[j] == 0x22 else { return nil }
            j += 1
            let start = j
            while j < raw.count, raw[j] != 0x22 {
                guard raw[j] >= 0x20, raw[j] < 0x7F, raw[j] != 0x5C else { return nil }
                j += 1
            }
            guard j < raw.count, j > start, j - start <= 64 else { return nil }
            return String(decoding: raw[start..<j], as: UTF8.self)
        }
        return nil
    }
}
