import FeedContract
import Foundation
import Testing

@Suite struct DocumentationTests {
    /// The contract document next to the module, found from this file's real path.
    static func document() throws -> String {
        let here = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("Shared/FeedContract/Docs.docc/FeedContract.md"), encoding: .utf8)
    }

    static func block(_ language: String, in text: String) -> [String] {
        guard let start = text.range(of: "```\(language)\n"),
              let end = text.range(of: "\n```", range: start.upperBound..<text.endIndex) else { return [] }
        return text[start.upperBound..<end.lowerBound].split(separator: "\n").map(String.init)
    }

    @Test func theDocumentedExampleHasOneValidLineOfEveryRecordType() throws {
        let lines = Self.block("json", in: try Self.document())
        let items = try decode(lines.joined(separator: "\n"))
        #expect(items.compactMap { $0.record?.recordType } == FeedRecordType.allCases)
        #expect(items.allSatisfy { $0.reject == nil })
    }

    @Test func theDocumentedCSVExampleIsValid() throws {
        let lines = Self.block("csv", in: try Self.document())
        let items = try decode(lines.joined(separator: "\n"), format: .csv(.balance))
        #expect(items.count == 1 && items[0].record != nil)
    }
}
