/// The sample generator's random numbers: xoshiro256** seeded through SplitMix64.
///
/// Why our own generator: the same seed must give byte-identical feeds on every machine and every
/// Swift release, so nothing may come from the system RNG or from standard-library algorithms whose
/// implementation may change (`shuffled()`, `randomElement()`, `Int.random(in:using:)`). Every draw
/// here is written out: `below(n)` is Lemire's multiply-shift with rejection (unbiased), `shuffle` a
/// Fisher–Yates over `below`. Streams are derived per customer (`derive(seed, stream)`), so one
/// customer's records do not depend on how many draws another customer took.
public struct SampleRandom: Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var state = seed
        s0 = SampleRandom.splitMix(&state)
        s1 = SampleRandom.splitMix(&state)
        s2 = SampleRandom.splitMix(&state)
        s3 = SampleRandom.splitMix(&state)
    }

    /// One SplitMix64 step (Steele, Lea, Flood 2014).
    static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A seed for stream `stream` of `seed` (a customer index, a section of the feed).
    public static func derive(_ seed: UInt64, _ stream: UInt64) -> UInt64 {
        var state = seed ^ (stream &* 0xD1B5_4A32_D192_ED03)
        _ = splitMix(&state)
        return splitMix(&state)
    }

    @inline(__always) private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// The next 64 random bits (xoshiro256**, Blackman and Vigna 2018).
    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = SampleRandom.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = SampleRandom.rotl(s3, 45)
        return result
    }

    /// Uniform in 0..<n (n > 0), unbiased.
    public mutating func below(_ n: UInt64) -> UInt64 {
        precondition(n > 0)
        var m = next().multipliedFullWidth(by: n)
        if m.low < n {
            let threshold = (0 &- n) % n
            while m.low < threshold { m = next().multipliedFullWidth(by: n) }
        }
        return m.high
    }

    /// Uniform in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(below(UInt64(range.upperBound - range.lowerBound) + 1))
    }

    /// Uniform in `range`.
    public mutating func int64(_ range: ClosedRange<Int64>) -> Int64 {
        range.lowerBound + Int64(below(UInt64(range.upperBound - range.lowerBound) + 1))
    }

    /// True with probability `perMille` / 1000.
    public mutating func chance(perMille: Int) -> Bool { Int(below(1000)) < perMille }

    /// One of `items` (not empty), uniformly.
    public mutating func pick<T>(_ items: [T]) -> T { items[Int(below(UInt64(items.count)))] }

    /// Fisher–Yates with `below`, so the order depends on the seed alone.
    public mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) {
            let j = Int(below(UInt64(i + 1)))
            if i != j { items.swapAt(i, j) }
        }
    }

    /// `value × permille / 1000`, rounded down, in Int64 (amounts stay integers).
    public static func scale(_ value: Int64, permille: Int) -> Int64 { value * Int64(permille) / 1000 }
}
