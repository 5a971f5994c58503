/// Feed contract v1.1: what the bank's core systems send TierGuard, and how each line is judged.
///
/// Version: `"1.1"` (v1 plus the `relationship_manager` record; every v1 feed is a valid v1.1 feed).
/// A v2 adds a new version string here and keeps reading v1.x. The full contract, with an example of
/// every record type, is `Docs.docc/FeedContract.md`; the rules below are the corner cases it settles.
///
/// Formats
/// - NDJSON: one flat JSON object per line, `"type"` one of `customer`, `account`, `balance`,
///   `transaction`, `relationship_manager`; types may be mixed and arrive in any order.
/// - CSV (RFC 4180): one file per record type, header row of the same field names, type from the
///   caller or the file name (`customers*.csv`, `accounts*.csv`, `balances*.csv`, `transactions*.csv`,
///   `relationship_managers*.csv`). See `CSVFeedParser` for quoting and header rules.
///
/// Lines (see `FeedLineReader`)
/// - Physical lines are numbered from 1; blank lines (only spaces, tabs, CR) are skipped and keep their
///   number. In CSV the header is a line like any other, and a record spanning lines carries the number
///   of its first line.
/// - UTF-8 only; a BOM at the start of the file is dropped; CRLF is accepted; the last line needs no
///   `\n`. A line with a NUL byte or invalid UTF-8, or longer than 1 MiB (configurable), is a reject.
///
/// NDJSON values
/// - Strings, numbers, `true`, `false`, `null`. `null`, a missing field and an empty string `""` all
///   mean "absent" (required → "X is required"; optional → nil), the same as an empty CSV field.
/// - A field of the wrong JSON type is a reject (`customer_id must be a JSON string, got the number 7`);
///   money given as a JSON number is refused with "money must be a JSON string…". Booleans must be
///   JSON booleans (in CSV, the text `true` or `false`).
/// - Strings are taken as given: no trimming, no case folding. A string decoded from `\u0000` is
///   refused (text storage cannot hold NUL); other escapes (`\n` in a description) are kept.
/// - Duplicate keys are a reject (`duplicate key amount`), even for unknown keys or equal values: the
///   line is ambiguous. Nested objects and arrays are a reject. Unknown fields are ignored (forward
///   compatibility) unless their name looks like C3 authentication data (password, PIN, CVV, track
///   data: see `AuthenticationDataField`), which rejects the record and stores its raw text with that
///   value replaced by `***`. In a CSV header such a column rejects the whole file.
/// - A line has one fault reported: JSON syntax first, then duplicate keys, then C3 fields, then
///   `type`, then the record's fields in contract field order (`FeedRecordType.fields`).
///
/// Field rules, written once
/// - Identifiers (customer_id, account_id, txn_id, rm_id, branch_id, manager_rm_id): 1–32 characters
///   of `[A-Za-z0-9_-]`, case-sensitive.
/// - Enumerations are exact and case-sensitive: id_type `resident_id` (default) `passport` `other`;
///   gender `M` `F` `O`; risk_level `C1`…`C5`; status `active` `closed`; product, category, channel as
///   in `TierGuardModel`.
/// - Dates: exactly `YYYY-MM-DD`, a day that exists. An account's maturity_on and closed_on may not be
///   before its opened_on.
/// - booked_at: RFC 3339, see `RFC3339Timestamp` (uppercase `T` and `Z`, 1–9 fraction digits, offset
///   required, `-00:00` and leap seconds refused).
/// - Money: a string `Fen(yuanText:)` accepts: optional `-`, digits (leading zeros allowed), at most
///   two decimals, within Int64 fen; annual_income ≥ 0; balances and amounts may be negative (for
///   every product).
/// - currency: required; only `CNY` in v1 (`currency USD not supported in contract v1`).
/// - risk_level required; risk_assessed_on required with it.
/// - id_number: for `resident_id` the GB 11643-1999 rules of `ResidentIDNumber` (18 characters, check
///   character, uppercase X, a real birth date equal to birth_date when that is given; a mismatch is
///   reported on birth_date). For `passport` and `other`: any non-empty string.
/// - phone (customer) and mobile (RM): exactly `1[3-9]` and 9 more digits.
/// - relationship_manager: active is required (a boolean); manager_rm_id may not be the RM itself;
///   wecom_userid 1–64 of `[A-Za-z0-9_@.-]` (WeCom's rule); email a plain `local@domain.tld` shape.
/// - Free text (name, product_code, counterparty_bank, description): any non-empty string; the
///   counterparty bank code is kept exactly as sent (the own-bank comparison is case-sensitive).
///
/// Reject reasons name the line and field and never show personal values in clear: id numbers and
/// phone numbers are masked (`110105********0021`, `138****5678`), names, e-mail addresses, WeCom ids
/// and descriptions are not quoted at all. Natural keys: see `FeedRecord.naturalKey`.
public enum FeedContract {
    /// The contract version this module reads.
    public static let version = "1.1"
    /// Every version this module reads (a feed does not carry its version: v1.1 is a superset of v1).
    public static let supportedVersions = ["1.0", "1.1"]
}
