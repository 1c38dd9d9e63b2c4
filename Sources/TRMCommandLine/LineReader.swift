import Foundation

/// Reads a file line by line in 64 KiB chunks (lines split at LF; the parser drops a CR), so
/// `trm solve` starts answering before a large file is read and never holds all of it.
final class LineReader {
  let handle: FileHandle
  var buffer = Data()
  var atEnd = false

  init(path: String) throws {
    guard let h = FileHandle(forReadingAtPath: path) else { throw UsageError("cannot read \(path)") }
    handle = h
  }

  deinit { try? handle.close() }

  /// The next line without its LF, or nil at the end of the file.
  func next() -> String? {
    while true {
      if let nl = buffer.firstIndex(of: 0x0A) {
        let line = buffer[buffer.startIndex..<nl]
        buffer = buffer[(nl + 1)...]
        return String(decoding: line, as: UTF8.self)
      }
      if atEnd {
        guard !buffer.isEmpty else { return nil }
        defer { buffer = Data() }
        return String(decoding: buffer, as: UTF8.self)
      }
      let chunk = handle.readData(ofLength: 1 << 16)
      if chunk.isEmpty { atEnd = true } else { buffer = Data(buffer) + chunk }
    }
  }
}
