import Foundation
import TinyRecursion

extension CommandLineTool {
  /// `trm solve`: prints `INPUT,ANSWER` lines for puzzles from a file or stdin.
  static func solve(_ args: [String]) throws -> Int32 {
    let a = try Arguments(
      args, command: "solve", flags: ["verify", "no-halt"],
      options: ["checkpoint", "data", "supervision-steps", "threads"], aliases: ["steps": "supervision-steps"])
    let r = try Reasoner(checkpoint: URL(fileURLWithPath: try a.required("checkpoint")), threads: try threads(a))
    let set: PuzzleSet
    if let path = a.string("data") {
      set = try loadSet(path, task: r.layout.task)
    } else {
      set = try PuzzleSet.parse(stdinLines().joined(separator: "\n"), task: r.layout.task, source: "stdin")
    }
    let sols = try r.solve(
      set.puzzles, supervisionSteps: try a.int("supervision-steps", min: 1, max: 1024), halt: !a.has("no-halt"))
    for (i, s) in sols.enumerated() {
      out(s.line)
      if a.has("verify") {
        let confidence = s.confidence.map { String(format: " confidence %.3f", $0) } ?? ""
        err("\(i + 1): \(s.verdict.map { "invalid (\($0))" } ?? "valid") steps \(s.supervisionSteps)\(confidence)")
      }
    }
    return 0
  }
}
