import Glibc

/// Process exit statuses shared by every TierGuard executable (the BSD `sysexits.h` numbers).
///
/// 0 success (including a drained SIGTERM), 1 a failure at run time, 64 a usage error (printed with the
/// usage text), 65 bad input data, 69 a required service unavailable (database down at start), 70 an
/// internal error, 75 a temporary failure worth retrying, 78 bad configuration.
public enum ExitCode: Int32, Sendable, Equatable {
    case success = 0
    case failure = 1
    case usage = 64
    case dataError = 65
    case unavailable = 69
    case software = 70
    case temporaryFailure = 75
    case configuration = 78

    /// Ends the process with this status, flushing stdio buffers.
    public func exit() -> Never {
        fflush(nil)  // every open stdio stream
        Glibc.exit(rawValue)
    }
}
