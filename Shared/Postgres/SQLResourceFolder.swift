import Foundation

/// Reads a folder of `.sql` files shipped as a package resource: file name without `.sql` → text,
/// trailing newlines dropped, so the text sent is the file's text exactly.
///
/// Used by the modules that keep statements as files (`JobSQLText`, `IngestSQLText`) so that
/// `deploy/isolation/run.sh` can paste the very same text into its specs. A missing or unreadable
/// folder or file is a packaging defect, not a runtime condition: the process stops naming it.
public enum SQLResourceFolder {
    /// `directory`: the module's `Bundle.module.url(forResource:withExtension:)` for the folder;
    /// `name`: how the folder is named in the message when it is missing.
    public static func load(_ directory: URL?, name: String) -> [String: String] {
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
        return texts
    }
}
