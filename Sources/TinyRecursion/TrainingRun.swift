import Dispatch
import Foundation
import TRMModel
import TRMTraining

/// One line of `metrics.jsonl`.
public struct MetricsRecord: Codable, Sendable {
  public var step: Int
  public var elapsedSeconds: Double
  public var loss: Double
  public var learningRate: Double
  public var trainExactAccuracy: Double?
  public var examplesPerSecond: Double
  public var validation: SuiteScore?
}

/// Drives a training run in a run directory: periodic validation and checkpoints, metrics as
/// JSON lines, resume. Reports through callbacks; prints nothing itself.
public final class TrainingRun {
  public let trainer: Trainer
  public let layout: TaskLayout
  public let directory: URL
  public let validation: [Puzzle]
  /// Supervision steps per validation puzzle (default: the trained N_sup).
  public var validationSupervisionSteps: Int
  public var checkpointEvery: Int
  public var validateEvery: Int
  /// Set from a signal handler to stop after the current step (a checkpoint is then saved).
  public var stopRequested = false
  var elapsedBefore: Double = 0

  public var checkpointURL: URL { directory.appendingPathComponent("checkpoint.safetensors") }
  /// EMA (evaluation) weights for `eval`, `solve`, `sweep`.
  public var modelURL: URL { directory.appendingPathComponent("model.safetensors") }
  public var metricsURL: URL { directory.appendingPathComponent("metrics.jsonl") }

  public init(
    trainer: Trainer, layout: TaskLayout, directory: URL, validation: [Puzzle],
    validationSupervisionSteps: Int? = nil, checkpointEvery: Int = 500, validateEvery: Int = 250
  ) throws {
    self.trainer = trainer
    self.layout = layout
    self.directory = directory
    self.validation = validation
    self.validationSupervisionSteps = validationSupervisionSteps ?? trainer.model.config.supervisionSteps
    self.checkpointEvery = checkpointEvery
    self.validateEvery = validateEvery
    guard isWriter else { return }
    do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
      throw TaskError.invalid("cannot create run directory \(directory.path): \(error.localizedDescription)")
    }
  }

  /// Reopens a run directory for `--resume` (the checkpoint is read once).
  /// `optimizerSteps` extends (or shortens) the run's total optimizer steps.
  public static func resume(
    directory: URL, train: [Puzzle], validation: [Puzzle], threads: Int?,
    optimizerSteps: Int? = nil, communicator: Communicator? = nil
  ) throws -> TrainingRun {
    let file = try Checkpoint.read(directory.appendingPathComponent("checkpoint.safetensors"))
    let layout = try file.taskLayout()
    let trainer = try file.trainer(
      data: try train.map { try layout.example($0) }, threads: threads,
      optimizerSteps: optimizerSteps, communicator: communicator)
    let run = try TrainingRun(trainer: trainer, layout: layout, directory: directory, validation: validation)
    run.elapsedBefore = file.annotations.elapsedSeconds ?? 0
    return run
  }

  /// Whether this process writes files: always, except ranks > 0 of a data-parallel run (rank 0
  /// alone writes checkpoints, the model and metrics, and validates).
  public var isWriter: Bool { (trainer.communicator?.rank ?? 0) == 0 }

  /// Saves the resumable checkpoint and the evaluation model (EMA weights). Collective in a
  /// data-parallel run (the carry is gathered); rank 0 writes.
  public func save(elapsed: Double) throws {
    let notes = Checkpoint.Annotations(task: try layout.checkpointJSON(), elapsedSeconds: elapsed)
    try Checkpoint.save(trainer: trainer, annotations: notes, to: checkpointURL)
    guard isWriter else { return }
    try Checkpoint.save(model: try trainer.evaluationModel(), annotations: notes, to: modelURL)
  }

  /// Validation score with the evaluation weights (nil without validation puzzles, and on ranks
  /// other than 0).
  public func validate() throws -> SuiteScore? {
    guard !validation.isEmpty, isWriter else { return nil }
    var budget = trainer.model.config.budget
    budget.supervisionSteps = validationSupervisionSteps
    return try scoreSuite(
      model: try trainer.evaluationModel(), layout: layout, puzzles: validation, budget: budget,
      halt: false, threads: trainer.config.threads)
  }

  /// Trains until `trainer.config.optimizerSteps` (or a stop request). `onStep` gets every step's
  /// metrics and the elapsed seconds; `onRecord` every metrics record written.
  public func run(
    onStep: (StepMetrics, Double) -> Void = { _, _ in }, onRecord: (MetricsRecord) -> Void = { _ in }
  ) throws -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    func elapsed() -> Double { elapsedBefore + Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
    // A save interrupted by kill -9 can leave its staging file; the next save would overwrite it.
    if isWriter {
      for url in [checkpointURL, modelURL] { try? FileManager.default.removeItem(at: SafeTensors.partialURL(for: url)) }
    }
    // A fresh run (step 0) starts a new metrics file, even in a directory used before; a resumed
    // run keeps the records up to its checkpoint's step (a killed run may have written later
    // ones, or half a line) and appends.
    var handle: FileHandle? = nil
    if isWriter {
      if trainer.step == 0 || !FileManager.default.fileExists(atPath: metricsURL.path) {
        _ = FileManager.default.createFile(atPath: metricsURL.path, contents: nil)
      } else {
        try truncateMetrics(after: trainer.step)
      }
      guard let h = try? FileHandle(forWritingTo: metricsURL) else {
        throw TaskError.invalid("cannot write \(metricsURL.path)")
      }
      h.seekToEndOfFile()
      handle = h
    }
    defer { try? handle?.close() }
    let enc = JSONEncoder()
    enc.outputFormatting = .sortedKeys
    var windowStart = elapsed(), windowSteps = 0, lastExact: Double? = nil
    let total = trainer.config.optimizerSteps
    var savedStep = trainer.step
    while trainer.step < total && !agreedStop() {
      let m = trainer.trainStep()
      func diverged(_ what: String) -> TaskError {
        TaskError.invalid(
          "training diverged: \(what) at optimizer step \(m.step) (learning rate \(m.learningRate)); stopped without "
            + "saving, so \(checkpointURL.path) still holds step \(savedStep) (train again with a lower --lr)")
      }
      guard m.loss.isFinite else { throw diverged("the loss is \(m.loss)") }
      windowSteps += 1
      if let e = m.haltedExactAccuracy { lastExact = e }
      let now = elapsed()
      onStep(m, now)
      let isLast = trainer.step == total
      let doValidate = isLast || (validateEvery > 0 && trainer.step % validateEvery == 0)
      if doValidate || trainer.step % 50 == 0 {
        let rate = Double(windowSteps * trainer.config.batchSize) / max(1e-9, now - windowStart)
        let rec = MetricsRecord(
          step: trainer.step, elapsedSeconds: now, loss: m.loss, learningRate: m.learningRate,
          trainExactAccuracy: lastExact, examplesPerSecond: rate, validation: doValidate ? try validate() : nil)
        handle?.write(try enc.encode(rec) + Data("\n".utf8))
        onRecord(rec)
        windowStart = elapsed()
        windowSteps = 0
      }
      if isLast || (checkpointEvery > 0 && trainer.step % checkpointEvery == 0) {
        // The loss is computed before the update: check the updated weights before saving them.
        guard trainer.model.parameters.allSatisfy({ $0.value.scalars.allSatisfy(\.isFinite) }) else {
          throw diverged("the weights are no longer finite")
        }
        try save(elapsed: elapsed())
        savedStep = trainer.step
      }
    }
    if stopRequested { try save(elapsed: elapsed()) }
    return elapsed()
  }

  /// Whether to stop now. Data-parallel: a stop requested on any process (Ctrl-C reaches them at
  /// slightly different moments) stops all of them after the same step (collective).
  func agreedStop() -> Bool {
    guard let c = trainer.communicator, c.size > 1 else { return stopRequested }
    var flag = [stopRequested ? 1.0 : 0.0]
    flag.withUnsafeMutableBufferPointer { c.allReduceSum($0) }
    if flag[0] > 0 { stopRequested = true }
    return stopRequested
  }

  /// Keeps the complete metrics records with step ≤ `step` (atomically rewritten).
  func truncateMetrics(after step: Int) throws {
    guard let data = FileManager.default.contents(atPath: metricsURL.path) else { return }
    let text = String(decoding: data, as: UTF8.self)
    let decoder = JSONDecoder()
    let kept = text.split(separator: "\n").filter { line in
      guard let rec = try? decoder.decode(MetricsRecord.self, from: Data(line.utf8)) else { return false }
      return rec.step <= step
    }
    let partial = directory.appendingPathComponent(".metrics.jsonl.partial")
    do {
      try Data(kept.map { $0 + "\n" }.joined().utf8).write(to: partial)
      try FileManager.default.moveItemReplacing(at: partial, to: metricsURL)
    } catch {
      throw TaskError.invalid("cannot rewrite \(metricsURL.path): \(error.localizedDescription)")
    }
  }
}
