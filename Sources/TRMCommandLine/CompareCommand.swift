import Foundation
import TinyRecursion

extension CommandLineTool {
  struct CompareRow: Codable {
    var model: String
    var parameters: Int
    var trainSeconds: Double
    var exactAccuracy: Double
    var verifiedAccuracy: Double
    var cellAccuracy: Double
    var meanSupervisionSteps: Double
  }

  /// `trm compare`: TRM and its parameter-matched baseline trained on the same data and budget
  /// (the same setup as `trm train`), scored on a test file; Markdown + JSON table.
  static func compare(_ args: [String]) throws -> Int32 {
    let a = try Arguments(
      args, command: "compare", flags: trainFlags, options: trainOptions.union(["test"]),
      aliases: trainAliases.merging(["budget-steps": "optimizer-steps"]) { $1 })
    var rows: [CompareRow] = []
    let test = try loadSet(try a.required("test"), task: try task(a))
    let dir =
      a.string("out").map { URL(fileURLWithPath: $0) }
      ?? FileManager.default.temporaryDirectory.appendingPathComponent(
        "trm-compare-\(ProcessInfo.processInfo.processIdentifier)")
    for kind in [ModelKind.trm, .baseline] {
      let job = try trainingJob(a, kind: kind)
      let run = try makeRun(
        job, directory: dir.appendingPathComponent(kind.rawValue), heldOut: job.valid + test.puzzles, a)
      let model = run.trainer.model, s = job.setup
      // The test file must be scoreable by this model before any training time is spent: one
      // puzzle of each size, untrained, one supervision step (an MLP-mixer model and a test file
      // of another size fail here, in a second).
      var sizes: [Int: Puzzle] = [:]
      for p in test.puzzles where sizes[p.inputText.count] == nil { sizes[p.inputText.count] = p }
      _ = try Reasoner(model: model, layout: s.layout).score(Array(sizes.values), supervisionSteps: 1)
      out(
        "\(kind.rawValue): \(model.parameterCount) parameters, \(s.training.optimizerSteps) optimizer steps × batch "
          + "\(s.training.batchSize)")
      let secs = try runTraining(run, label: kind.rawValue)
      if run.stopRequested {
        err("interrupted during the \(kind.rawValue) leg: no comparison table (checkpoints are in \(dir.path))")
        return 130
      }
      let reasoner = Reasoner(model: try run.trainer.evaluationModel(), layout: s.layout, threads: s.training.threads)
      reasoner.stopRule = .haltingHead
      // Every model at its full depth; the TRM also as `trm solve` runs it, stopping where its
      // halting head says the answer is done (a TRM that overthinks scores higher there).
      for halt in kind == .trm ? [false, true] : [false] {
        let sc = try reasoner.score(test.puzzles, halt: halt)
        rows.append(
          CompareRow(
            model: kind.rawValue + (halt ? " (halting)" : ""), parameters: model.parameterCount, trainSeconds: secs,
            exactAccuracy: sc.exactAccuracy, verifiedAccuracy: sc.verifiedAccuracy, cellAccuracy: sc.cellAccuracy,
            meanSupervisionSteps: sc.meanSupervisionSteps))
      }
    }
    let header = ["model", "parameters", "train time", "exact", "verified", "cells", "mean steps"]
    let cells = rows.map {
      [
        $0.model, "\($0.parameters)", formatDuration($0.trainSeconds), pct($0.exactAccuracy), pct($0.verifiedAccuracy),
        pct($0.cellAccuracy), String(format: "%.2f", $0.meanSupervisionSteps),
      ]
    }
    out(table(header, cells))
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let md =
      (["| " + header.joined(separator: " | ") + " |", "|" + header.map { _ in "---" }.joined(separator: "|") + "|"]
      + cells.map { "| " + $0.joined(separator: " | ") + " |" }).joined(separator: "\n") + "\n"
    try md.write(to: dir.appendingPathComponent("compare.md"), atomically: true, encoding: .utf8)
    try writeJSON(rows, to: dir.appendingPathComponent("compare.json").path)
    out("wrote \(dir.path)/compare.md and compare.json")
    return 0
  }
}
