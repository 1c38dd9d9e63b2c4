import Foundation
import TinyRecursion

extension CommandLineTool {
  /// `trm eval`: accuracy of a checkpoint on a labelled file, as a table (and JSON).
  static func evaluate(_ args: [String]) throws -> Int32 {
    let a = try Arguments(
      args, command: "eval", flags: ["halt", "until-stable"],
      options: ["checkpoint", "data", "supervision-steps", "json", "threads", "attempts"],
      aliases: ["steps": "supervision-steps"])
    let r = try Reasoner(checkpoint: URL(fileURLWithPath: try a.required("checkpoint")), threads: try threads(a))
    let halt = try scoringStop(a, r)
    let set = try loadSet(try a.required("data"), task: r.layout.task)
    let k = try a.int("supervision-steps", min: 1, max: 1024)
    let attempts = try a.int("attempts", default: 1, min: 1, max: 1024)
    var meanAttempts = 1.0
    let sc: SuiteScore
    if attempts > 1 {
      (sc, meanAttempts) = try r.score(set.puzzles, supervisionSteps: k, halt: halt, attempts: attempts)
    } else {
      sc = try r.score(set.puzzles, supervisionSteps: k, halt: halt)
    }
    let row = [
      "\(sc.count)", pct(sc.exactAccuracy), pct(sc.verifiedAccuracy), pct(sc.cellAccuracy),
      String(format: "%.2f", sc.meanSupervisionSteps), String(format: "%.2f", sc.msPerExample),
      sc.flopsPerSolved.map { String(format: "%.3f", $0 / 1e9) } ?? "-",
      sc.msPerSolved.map { String(format: "%.2f", $0) } ?? "-", String(format: "%.2f", meanAttempts),
    ]
    let header = [
      "examples", "exact", "verified", "cells", "mean steps", "ms/example", "GFLOP/solved", "ms/solved", "attempts",
    ]
    out(table(header, [row]))
    if let j = a.string("json") { try writeJSON(sc, to: j) }
    return 0
  }
}
