import Foundation
import TinyRecursion

extension CommandLineTool {
  /// `trm trace`: one puzzle's answer after every supervision step, drawn as an SVG strip.
  static func trace(_ args: [String]) throws -> Int32 {
    let a = try Arguments(
      args, command: "trace", flags: [],
      options: ["checkpoint", "data", "index", "supervision-steps", "out", "threads"],
      aliases: ["steps": "supervision-steps"])
    let r = try Reasoner(checkpoint: URL(fileURLWithPath: try a.required("checkpoint")), threads: try threads(a))
    let set = try loadSet(try a.required("data"), task: r.layout.task)
    let index = try a.int("index", default: 1, min: 1)
    guard index <= set.puzzles.count else {
      throw UsageError("--index \(index): the file has \(set.puzzles.count) puzzles")
    }
    let steps = try a.int("supervision-steps", min: 1, max: 1024)
    let outPath = try a.required("out")
    let t = try r.trace(set.puzzles[index - 1], supervisionSteps: steps)
    for (k, (answer, verdict)) in zip(t.answers, t.verdicts).enumerated() {
      let halt = k < t.haltProbabilities.count ? String(format: ", halt %.3f", t.haltProbabilities[k]) : ""
      out("step \(k + 1): \(verdict.map { "invalid (\($0))" } ?? "valid")\(halt)")
      if k == t.answers.count - 1 { out(answer) }
    }
    let title =
      "\(r.model.config.kind.rawValue.uppercased()) trained on \(r.layout.summary): puzzle \(index) of "
      + "\(try a.required("data"))"
    do {
      try ThinkingTraceSVG(trace: t, title: title).svg().write(toFile: outPath, atomically: true, encoding: .utf8)
    } catch {
      throw UsageError("cannot write \(outPath): \(error.localizedDescription)")
    }
    out("wrote \(outPath)")
    return 0
  }
}
