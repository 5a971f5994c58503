import Foundation

/// A folder of `.sql` files shipped as a package resource, read once: file name without `.sql` → text,
/// trailing newlines dropped, so the text sent is the file's text exactly.
///
/// Used by the modules that keep statements as files (`JobSQLText`, `IngestSQLText`) so that
/// `deploy/isolation/run.sh` can paste the very same text into its specs. A missing or unreadable
/// folder or file is a packaging defect, not a runtime condition: the process stops naming it.
public struct SQLResourceFolder: Sendable {
    /// How the folder is named in messages (`SQL/Statements of JobQueue`).
    public let name: String
    /// File name without `.sql` → SQL text.
    public let statements: [String: String]

    /// `directory`: the module's `Bundle.module.url(forResource:withExtension:)` for the folder.
    public init(_ directory: URL?, name: String) {
        self.name = name
        guard let directory else { fatalError("the resource folder \(name) is missing from the bundle") }
        let files: [URL]
        do {
            files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        } catch {
            fatalError("cannot list \(directory.path): \(error)")
        }
        var texts: [String: String] = [:]
        for file in files where file.pathExtension == "sql" {
            do {
                var text = try String(contentsOf: file, encoding: .utf8)
                while text.last?.isNewline == true { text.removeLast() }
                texts[file.deletingPathExtension().lastPathComponent] = text
            } catch {
                fatalError("cannot read \(file.path): \(error)")
            }
        }
        statements = texts
    }

    /// The text of `<name>.sql`; stops the process when the file is not in the folder.
    public func statement(_ file: String) -> String {
        guard let text = statements[file] else { fatalError("\(file).sql is missing from the resource folder \(name)") }
        return text
    }
}
