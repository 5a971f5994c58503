// ThreadSanitizer check of the toolchain, not part of the package: four threads update one
// Synchronization.Mutex-protected dictionary. Correct code; on Swift 6.3 / Linux TSan still reports a
// "Swift access race" here, because a contended Mutex locks and unlocks through futex calls inside
// the uninstrumented libswiftSynchronization, so TSan never sees the happens-before edge.
// deploy/local/tsan.sh runs it first (swiftc -sanitize=thread) and says so when it reports.

import Foundation
import Synchronization

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
