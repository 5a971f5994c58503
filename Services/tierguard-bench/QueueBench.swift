import Foundation

enum QueueBench {
    static func run(_ arguments: [String]) async throws -> Int32 {
        FileHandle.standardError.write(Data("not available in this build yet\n".utf8))
        return 1
    }

    static func runWorker(_ arguments: [String]) async throws -> Int32 {
        FileHandle.standardError.write(Data("not available in this build yet\n".utf8))
        return 1
    }
}
