// ThreadSanitizer check of the toolchain, not part of the package: four threads update one
// Synchronization.Mutex-protected dictionary. Correct code; on Swift 6.3 / Linux TSan still reports a
// "Swift access race" here, because a contended Mutex locks and unlocks through futex calls inside
// the uninstrumented libswiftSynchronization, so TSan never sees the happens-before edge.
// deploy/local/tsan.sh compiles it twice: plain (TSan reports, proving the toolchain still has the
// problem) and with -DTIERGUARD_TSAN and Shared/TSanVisibleLock, the same shim every package module
// has (TSanMutexShim.swift), where TSan must be silent.

import Foundation
import Synchronization
#if TIERGUARD_TSAN
import TSanVisibleLock

typealias Mutex<Value: ~Copyable> = TSanVisibleMutex<Value>
#endif

final class Box: Sendable {
    let state = Mutex<[Int: Int]>([:])
}
let box = Box()
let group = DispatchGroup()
for t in 0..<4 {
    let thread = Thread {
        for i in 0..<200_000 {
            box.state.withLock { $0[i % 64] = t }
        }
        group.leave()
    }
    group.enter()
    thread.start()
}
group.wait()
print(box.state.withLock { $0.count })
