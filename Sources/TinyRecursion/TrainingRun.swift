import Dispatch
import Foundation

/// Named model + training settings for the shipped suites, sized to train in minutes on 2 cores.
public struct Preset: @unchecked Sendable {
  public var name: String
  public var summary: String
  public var model: (ModelConfig) -> ModelConfig
  public var training: TrainingConfig
  /// Mazes: supervise only open cells (`TaskLayout.openCellTargets`).
  public var openCellTargets = false

  /// All presets by name.
  public static let all: [String: Preset] = {
    var out: [String: Preset] = [:]
    func add(_ name: String, _ summary: String, width: Int, mixer: TokenMixer, n: Int, T: Int, nSup: Int, batch: Int, steps: Int, lr: Double, supervisionWarmup: Int? = nil) {
      var t = TrainingConfig()
      t.batchSize = batch
      t.steps = steps
      t.learningRate = lr
      t.warmupSteps = min(100, steps / 10)
      t.weightDecay = 0.1
      t.emaDecay = 0.995
      t.supervisionWarmup = supervisionWarmup
      out[name] = Preset(name: name, summary: summary, model: { base in
        var c = base
        c.width = width
        c.mixer = mixer
        c.heads = max(1, width / 32)
        c.latentSteps = n
        c.recursions = T
        c.supervisionSteps = nSup
        return c
      }, training: t)
    }
    add("tiny", "CI-sized: 4×4 sudoku in well under a minute", width: 32, mixer: .mlp, n: 2, T: 2, nSup: 4, batch: 32, steps: 300, lr: 3e-3)
    add("sudoku4", "4×4 sudoku", width: 64, mixer: .mlp, n: 3, T: 2, nSup: 6, batch: 64, steps: 600, lr: 2e-3)
    add("sudoku6", "6×6 sudoku", width: 96, mixer: .mlp, n: 4, T: 2, nSup: 8, batch: 64, steps: 2000, lr: 1e-3)
    add("sudoku9", "9×9 sudoku", width: 128, mixer: .mlp, n: 6, T: 3, nSup: 8, batch: 64, steps: 3000, lr: 1e-3)
    add("maze-attention", "mazes with the attention mixer (earlier preset; stays at the copy level)", width: 64, mixer: .attention, n: 4, T: 2,
        nSup: 8, batch: 32, steps: 2000, lr: 1e-3)
    // Mazes: 3×3 conv mixer (any grid size), fresh generated mazes for every slot, open-cell
    // loss, staggered slots, gradient clipping, cosine decay (the settings of the PyTorch probe
    // in ../shared/bench/conv_trm_maze.py, see Benchmarks/results/README.md).
    add("maze", "mazes: 3×3 conv mixer, fresh mazes on the fly, any grid size at test time (11,000 steps: 27 min on 2 cores)", width: 32, mixer: .conv, n: 4, T: 2,
        nSup: 8, batch: 32, steps: 11000, lr: 1e-3)
    out["maze"]!.openCellTargets = true
    out["maze"]!.training.weightDecay = 0.01
    out["maze"]!.training.loss = .softmax
    out["maze"]!.training.schedule = .cosine
    out["maze"]!.training.warmupSteps = 50
    out["maze"]!.training.staggerSlots = true
    out["maze"]!.training.gradientClip = 1
    out["maze"]!.training.onlineGeneration = true
    let mazeModel = out["maze"]!.model
    out["maze"]!.model = { base in
      var c = mazeModel(base)
      c.swigluMultiple = 8
      c.prefixLength = 0
      return c
    }
    add("arithmetic", "addition / multiplication", width: 64, mixer: .attention, n: 3, T: 2, nSup: 6, batch: 64, steps: 1500, lr: 1e-3, supervisionWarmup: 1000)
    return out
  }()
}

/// A parameter-matched baseline for a TRM config: a direct predictor at half the width whose
/// block count is chosen so that its parameter count is closest to the TRM's (within ±10% for
/// the shipped presets; widths are widened if no block count gets there). No recursion,
/// no prefix, no halting head.
public func baselineConfig(matching trm: ModelConfig) -> ModelConfig {
  func count(_ c: ModelConfig) -> Int { (try? RecursiveModel(config: c, seed: 0).parameterCount) ?? Int.max }
  let target = Double(count(trm))
  var best = trm, bestGap = Double.infinity
  for width in Set([max(2, trm.width / 2), max(2, 3 * trm.width / 4), trm.width]).sorted() {
    for blocks in 1...max(8, 4 * trm.blocks) {
      var c = trm
      c.kind = .baseline
      c.width = width
      c.blocks = blocks
      c.heads = max(1, min(trm.heads, width / 16))
      while c.heads > 1 && (width % c.heads != 0 || (width / c.heads) % c.headDimMultiple != 0) { c.heads -= 1 }
      c.prefixLength = 0
      c.supervisionSteps = 1
      c.recursions = 1
      c.latentSteps = 0
      let gap = abs(Double(count(c)) - target) / target
      if gap < bestGap - 1e-9 { best = c; bestGap = gap }
    }
    if bestGap <= 0.1 { break }
  }
  return best
}

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
  public var evalSteps: Int
  public var checkpointEvery: Int
  public var validateEvery: Int
  /// Set from a signal handler to stop after the current step (a checkpoint is then saved).
  public var stopRequested = false
  var elapsedBefore: Double = 0

  public var checkpointURL: URL { directory.appendingPathComponent("checkpoint.safetensors") }
  /// EMA (evaluation) weights for `eval`, `solve`, `sweep`.
  public var modelURL: URL { directory.appendingPathComponent("model.safetensors") }
  public var metricsURL: URL { directory.appendingPathComponent("metrics.jsonl") }

  public init(trainer: Trainer, layout: TaskLayout, directory: URL, validation: [Puzzle], evalSteps: Int? = nil,
              checkpointEvery: Int = 500, validateEvery: Int = 250) throws {
    self.trainer = trainer
    self.layout = layout
    self.directory = directory
    self.validation = validation
    self.evalSteps = evalSteps ?? trainer.model.config.supervisionSteps
    self.checkpointEvery = checkpointEvery
    self.validateEvery = validateEvery
    do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
      throw TaskError.invalid("cannot create run directory \(directory.path): \(error.localizedDescription)")
    }
  }

  /// Reopens a run directory for `--resume`.
  /// `steps` extends (or shortens) the run's total optimizer steps.
  public static func resume(directory: URL, train: [Puzzle], validation: [Puzzle], threads: Int?, steps: Int? = nil) throws -> TrainingRun {
    let ckpt = directory.appendingPathComponent("checkpoint.safetensors")
    let meta = try Checkpoint.metadata(of: ckpt)
    guard let json = meta["task"], let layout = try? JSONDecoder().decode(TaskLayout.self, from: Data(json.utf8)) else {
      throw ModelError.checkpoint("\(ckpt.path): no task layout")
    }
    let trainer = try Checkpoint.resumeTrainer(from: ckpt, data: try train.map { try layout.example($0) }, threads: threads, steps: steps)
    let run = try TrainingRun(trainer: trainer, layout: layout, directory: directory, validation: validation)
    run.elapsedBefore = Double(meta["elapsed_seconds"] ?? "0") ?? 0
    return run
  }

  func metadata(elapsed: Double) throws -> [String: String] {
    let enc = JSONEncoder()
    enc.outputFormatting = .sortedKeys
    return ["task": String(decoding: try enc.encode(layout), as: UTF8.self), "elapsed_seconds": String(format: "%.3f", elapsed)]
  }

  /// Saves the resumable checkpoint and the evaluation model (EMA weights).
  public func save(elapsed: Double) throws {
    let meta = try metadata(elapsed: elapsed)
    try Checkpoint.save(trainer: trainer, extraMetadata: meta, to: checkpointURL)
    let t = trainer
    try t.ema.withShadowWeights(t.config.useEMA ? t.model.parameters : []) {
      try Checkpoint.save(model: t.model, extraMetadata: meta, to: modelURL)
    }
  }

  /// Validation score with the evaluation weights.
  public func validate() throws -> SuiteScore? {
    guard !validation.isEmpty else { return nil }
    let t = trainer
    return try t.ema.withShadowWeights(t.config.useEMA ? t.model.parameters : []) {
      try scoreSuite(model: t.model, layout: layout, puzzles: validation, steps: evalSteps, halt: false, threads: t.config.threads)
    }
  }

  /// Trains until `trainer.config.steps` (or a stop request). `onStep` gets every step's
  /// metrics and the elapsed seconds; `onRecord` every metrics record written.
  public func run(onStep: (StepMetrics, Double) -> Void = { _, _ in }, onRecord: (MetricsRecord) -> Void = { _ in }) throws -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    func elapsed() -> Double { elapsedBefore + Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
    // A fresh run (step 0) starts a new metrics file, even in a directory used before; a resumed
    // run appends to its own.
    if trainer.step == 0 || !FileManager.default.fileExists(atPath: metricsURL.path) {
      _ = FileManager.default.createFile(atPath: metricsURL.path, contents: nil)
    }
    guard let handle = try? FileHandle(forWritingTo: metricsURL) else { throw TaskError.invalid("cannot write \(metricsURL.path)") }
    defer { try? handle.close() }
    handle.seekToEndOfFile()
    let enc = JSONEncoder()
    enc.outputFormatting = .sortedKeys
    var windowStart = elapsed(), windowSteps = 0, lastExact: Double? = nil
    let total = trainer.config.steps
    while trainer.step < total && !stopRequested {
      let m = trainer.trainStep()
      windowSteps += 1
      if let e = m.haltedExactAccuracy { lastExact = e }
      let now = elapsed()
      onStep(m, now)
      let isLast = trainer.step == total
      let doValidate = isLast || (validateEvery > 0 && trainer.step % validateEvery == 0)
      if doValidate || trainer.step % 50 == 0 {
        let rate = Double(windowSteps * trainer.config.batchSize) / max(1e-9, now - windowStart)
        let rec = MetricsRecord(step: trainer.step, elapsedSeconds: now, loss: m.loss, learningRate: m.learningRate,
                                trainExactAccuracy: lastExact, examplesPerSecond: rate, validation: doValidate ? try validate() : nil)
        handle.write(try enc.encode(rec) + Data("\n".utf8))
        onRecord(rec)
        windowStart = elapsed()
        windowSteps = 0
      }
      if isLast || (checkpointEvery > 0 && trainer.step % checkpointEvery == 0) { try save(elapsed: elapsed()) }
    }
    if stopRequested { try save(elapsed: elapsed()) }
    return elapsed()
  }
}
