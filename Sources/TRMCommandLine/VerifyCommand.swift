import Foundation
import TinyRecursion

extension CommandLineTool {
  /// `trm verify`: checks every INPUT,ANSWER line with the exact verifiers (exit 1 if any is invalid).
  static func verify(_ args: [String]) throws -> Int32 {
    let a = try Arguments(args, command: "verify", flags: [], options: ["data", "task"])
    let path = try a.required("data")
    let set = try PuzzleSet.parse(try readText(path), task: try task(a), source: path, skipMalformed: true)
    var invalid: [String] = set.skipped.map { "malformed: \($0)" }
    var valid = 0
    for (i, p) in set.puzzles.enumerated() {
      if let r = p.verifyStatedSolution() { invalid.append("puzzle \(i + 1): \(r)") } else { valid += 1 }
    }
    for line in invalid.prefix(50) { err(line) }
    out("\(valid) valid, \(invalid.count) invalid")
    return invalid.isEmpty ? 0 : 1
  }

  static func readText(_ path: String) throws -> String {
    guard let d = FileManager.default.contents(atPath: path) else { throw UsageError("cannot read \(path)") }
    guard let s = String(data: d, encoding: .utf8) else { throw UsageError("\(path) is not UTF-8") }
    return s
  }
}
