// ThreadSanitizer builds only (deploy/local/tsan.sh passes -DTIERGUARD_TSAN): this module's own
// `Mutex` shadows the imported Synchronization.Mutex, which TSan cannot see on Swift 6.3 / Linux.
// Why, and the lock used instead: Shared/TSanVisibleLock/TSanVisibleMutex.swift. `@_exported`
// because MemberImportVisibility wants the module defining `withLock` imported in every file that
// calls it; an exported import in one file makes it visible to the whole module.
#if TIERGUARD_TSAN
@_exported import TSanVisibleLock

typealias Mutex<Value: ~Copyable> = TSanVisibleMutex<Value>
#endif
