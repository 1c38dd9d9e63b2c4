import Foundation
import TRMDistributed
import TinyRecursion

extension CommandLineTool {
  /// `trm train`: trains into a run directory (resumable with `--resume`).
  static func train(_ args: [String]) throws -> Int32 {
    let a = try Arguments(args, command: "train", flags: trainFlags, options: trainOptions, aliases: trainAliases)
    if let dir = a.string("resume") { return try resume(URL(fileURLWithPath: dir), a) }
    let job = try trainingJob(a)
    let run = try makeRun(job, directory: URL(fileURLWithPath: try a.required("out")), heldOut: job.valid, a)
    let s = job.setup
    if let c = communicator {
      out(
        "data-parallel over \(c.size) processes (\(c.implementation)): each computes \(run.trainer.shard.count) of the "
          + "\(s.training.batchSize) slots")
    }
    out(
      "\(s.model.kind.rawValue) on \(s.layout.summary): \(run.trainer.model.parameterCount) parameters, "
        + "\(job.train.count) training examples, \(s.training.optimizerSteps) optimizer steps × batch "
        + "\(s.training.batchSize), \(s.training.threads) threads")
    let secs = try runTraining(run, label: "train")
    if run.stopRequested { return 130 }
    if let v = try run.validate() {
      out(
        "validation: exact \(pct(v.exactAccuracy)), verified \(pct(v.verifiedAccuracy)), cells \(pct(v.cellAccuracy)), "
          + "mean steps \(String(format: "%.2f", v.meanSupervisionSteps))")
    }
    out("done in \(formatDuration(secs)); model: \(run.modelURL.path)")
    return 0
  }

  /// `trm train --resume DIR`: continues a run bit for bit; options that only steer the loop are
  /// taken from this command line, not silently dropped.
  static func resume(_ dir: URL, _ a: Arguments) throws -> Int32 {
    let data = try loadSet(try a.required("data"), task: try task(a))
    let valid = try a.string("valid").map { try loadSet($0, task: data.task).puzzles } ?? []
    let run = try TrainingRun.resume(
      directory: dir, train: data.puzzles, validation: valid,
      threads: try a.int("threads", min: 1, max: 256),
      optimizerSteps: try a.int("optimizer-steps", min: 1, max: 100_000_000), communicator: communicator)
    if let c = try a.int("checkpoint-every", min: 0) { run.checkpointEvery = c }
    if let v = try a.int("validate-every", min: 0) { run.validateEvery = v }
    if let k = try a.int("valid-supervision-steps", min: 1, max: 1024) { run.validationSupervisionSteps = k }
    try ExampleStream.install(on: run.trainer, train: data.puzzles, heldOut: valid, layout: run.layout)
    out("resuming \(dir.path) at step \(run.trainer.step)/\(run.trainer.config.optimizerSteps)")
    let secs = try runTraining(run, label: "train")
    if run.stopRequested { return 130 }
    out("done in \(formatDuration(secs)); model: \(run.modelURL.path)")
    return 0
  }
}
