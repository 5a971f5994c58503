import FeedContract

/// Tells the apply step, per record type, whether a feed may deliver one natural key more than once.
///
/// Why: the exact check for repeated keys is a `GROUP BY` over every staged row of the type (about
/// 1.3 s per 1,000,000 transactions), and almost every feed has no repeat at all. The detector keeps
/// the hash of each key it sees while the feed streams; a type is marked when a hash comes again (a
/// real repeat, or a collision, which only costs the exact check) or when more than `capacity` keys
/// were seen (memory bound: 4,000,000 hashes ≈ 64 MB; past it the exact check always runs).
/// Unmarked types skip the check; marked ones run it exactly as before, so the result never depends
/// on the detector, only the time does.
struct RepeatedKeyDetector {
    static let capacity = 4_000_000

    private var seen = Set<Int>()
    private var overflowed = false
    private(set) var mayRepeat: Set<FeedRecordType> = []

    mutating func note(_ record: FeedRecord) {
        let type = record.recordType
        guard !overflowed else { mayRepeat.insert(type); return }
        if !seen.insert(record.naturalKey.hashValue).inserted { mayRepeat.insert(type) }
        if seen.count > Self.capacity {
            overflowed = true
            seen = []
            mayRepeat = Set(FeedRecordType.allCases)
        }
    }
}
