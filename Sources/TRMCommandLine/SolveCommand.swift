import Foundation
import TinyRecursion

extension CommandLineTool {
  /// `trm solve`: prints `INPUT,ANSWER` lines for puzzles from a file or stdin.
  static func solve(_ args: [String]) throws -> Int32 {
    let a = try Arguments(
      args, command: "solve", flags: ["verify", "no-halt", "until-stable", "halting-head"],
      options: ["checkpoint", "data", "supervision-steps", "threads", "attempts"],
      aliases: ["steps": "supervision-steps"])
    let r = try Reasoner(checkpoint: URL(fileURLWithPath: try a.required("checkpoint")), threads: try threads(a))
    let rules = ["no-halt", "until-stable", "halting-head"].filter { a.has($0) }
    if rules.count > 1 {
      throw UsageError(rules.map { "--" + $0 }.joined(separator: " and ") + " contradict each other: choose one")
    }
    if a.has("until-stable") { r.stopRule = .untilStable }
    if a.has("halting-head") { r.stopRule = .haltingHead }
    // Streamed: lines are read, solved and printed in batches of 256, so the first answers come
    // out at once and memory stays flat whatever the input size.
    let path = a.string("data")
    let reader = try path.map { try LineReader(path: $0) }
    var parser = PuzzleLineParser(task: r.layout.task, source: path ?? "stdin")
    let k = try a.int("supervision-steps", min: 1, max: 1024)
    let attempts = try a.int("attempts", default: 1, min: 1, max: 1024)
    var batch: [Puzzle] = []
    var solved = 0
    func flush() throws {
      guard !batch.isEmpty else { return }
      for s in try r.solve(batch, supervisionSteps: k, halt: !a.has("no-halt"), attempts: attempts) {
        solved += 1
        out(s.line)
        if a.has("verify") {
          let confidence = s.confidence.map { String(format: " confidence %.3f", $0) } ?? ""
          err(
            "\(solved): \(s.verdict.map { "invalid (\($0))" } ?? "valid") steps \(s.supervisionSteps)\(confidence)"
              + (attempts > 1 ? " attempts \(s.attempts)" : ""))
        }
      }
      flushOut()
      batch.removeAll(keepingCapacity: true)
    }
    let nextLine: () -> String? = reader.map { file in { file.next() } } ?? stdinLine
    while let line = nextLine() {
      guard let p = try parser.next(line) else { continue }
      batch.append(p)
      if batch.count == 256 { try flush() }
    }
    try flush()
    if solved == 0 { throw UsageError("\(path ?? "stdin"): no puzzles found") }
    return 0
  }
}
