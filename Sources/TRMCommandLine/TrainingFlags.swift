import Foundation
import TRMDistributed
import TinyRecursion

/// The flags `train` and `compare` share, turned into a `TrainingSetup`: one setup for both.
extension CommandLineTool {
  static let trainOptions: Set<String> = [
    "data", "valid", "task", "model", "preset", "width", "blocks", "mixer", "latent-steps", "recursions",
    "supervision-steps", "heads", "optimizer-steps", "batch", "lr", "weight-decay", "loss", "augment", "seed",
    "threads",
    "checkpoint-every", "validate-every", "out", "resume", "valid-supervision-steps", "halt-loss-weight",
    "supervision-warmup", "positions", "loss-cells", "loop-share", "halt-exploration",
    "micro-batches", "maze-labels", "init", "curriculum", "solve-stop-rule",
  ]
  static let trainFlags: Set<String> = [
    "no-ema", "one-step-gradient", "augment-online", "generate-online", "no-generate-online",
  ]
  /// Earlier spellings, still accepted: `--steps` (optimizer steps), `--eval-steps` (supervision
  /// steps per validation puzzle).
  static let trainAliases = ["steps": "optimizer-steps", "eval-steps": "valid-supervision-steps"]

  /// A training job from the command line: the setup and its data.
  struct TrainingJob {
    var setup: TrainingSetup
    var train: [Puzzle]
    var valid: [Puzzle]
  }

  static func trainingJob(_ a: Arguments, kind: ModelKind? = nil) throws -> TrainingJob {
    let data = try loadSet(try a.required("data"), task: try task(a))
    var s = try TrainingSetup(puzzles: data, preset: a.string("preset"))
    let valid = try a.string("valid").map { try loadSet($0, task: data.task).puzzles } ?? []
    for p in valid where !s.layout.fits(p) {
      throw UsageError(
        "validation puzzle \(p.inputText.prefix(30)) does not match the training layout \(s.layout.summary)")
    }
    if let w = try a.int("width", min: 2, max: 4096) {
      s.model.width = w
      s.model.heads = max(1, w / 32)
    }
    if let h = try a.int("heads", min: 1, max: 256) { s.model.heads = h }
    if let b = try a.int("blocks", min: 1, max: 64) { s.model.blocks = b }
    if let mx = a.string("mixer") {
      guard let v = TokenMixer(rawValue: mx) else {
        throw UsageError("--mixer must be conv, depthwise, attention or mlp")
      }
      try s.setMixer(v)
    }
    let positions = a.string("positions") ?? "1d"
    switch positions {
    case "1d": if s.model.mixer == .attention { s.model.gridColumns = nil }
    case "2d":
      guard s.model.mixer == .attention else { throw UsageError("--positions 2d needs the attention mixer") }
      guard let g = s.layout.gridColumns else {
        throw UsageError("--positions 2d needs a grid task (sudoku, maze), not \(s.layout.summary)")
      }
      s.model.gridColumns = g
    default: throw UsageError("--positions must be 1d or 2d, got '\(positions)'")
    }
    if let n = try a.int("latent-steps", min: 0, max: 256) { s.model.latentSteps = n }
    if let t = try a.int("recursions", min: 1, max: 256) { s.model.recursions = t }
    if let k = try a.int("supervision-steps", min: 1, max: 1024) { s.model.supervisionSteps = k }
    let modelKind =
      try kind ?? a.string("model").map { name -> ModelKind in
        guard let k = ModelKind(rawValue: name) else { throw UsageError("--model must be trm or baseline") }
        return k
      } ?? .trm
    if modelKind == .baseline { s = s.baseline }
    if let n = try a.int("optimizer-steps", min: 1, max: 100_000_000) { s.training.optimizerSteps = n }
    if let b = try a.int("batch", min: 1, max: 65_536) { s.training.batchSize = b }
    if let lr = try a.double("lr", min: 1e-9, max: 10) { s.training.learningRate = lr }
    if let wd = try a.double("weight-decay", min: 0, max: 100) { s.training.weightDecay = wd }
    if let h = try a.double("halt-loss-weight", min: 0, max: 100) { s.training.haltLossWeight = h }
    if let p = try a.double("halt-exploration", min: 0, max: 1) { s.model.haltExploration = p }
    if let r = a.string("solve-stop-rule") {
      guard let v = StopRule(rawValue: r) else {
        throw UsageError("--solve-stop-rule must be \(StopRule.allCases.map(\.rawValue).joined(separator: " or "))")
      }
      s.model.solveStopRule = v
    }
    if let w = try a.int("supervision-warmup", min: 0, max: 100_000_000) { s.training.supervisionWarmup = w }
    if let k = try a.int("micro-batches", min: 1, max: 256) { s.training.microBatches = k == 1 ? nil : k }
    if let l = a.string("loss") {
      guard let v = CrossEntropyKind(rawValue: l) else { throw UsageError("--loss must be stablemax or softmax") }
      s.training.loss = v
    }
    if a.has("no-ema") { s.training.useEMA = false }
    if a.has("one-step-gradient") { s.training.oneStepGradient = true }
    if a.has("augment-online") { s.training.onlineAugmentation = true }
    if a.has("generate-online") { s.training.onlineGeneration = true }
    if a.has("no-generate-online") { s.training.onlineGeneration = nil }
    if let share = try a.double("loop-share", min: 0, max: 1) {
      guard (0...1).contains(share) else { throw UsageError("--loop-share must be in [0, 1], got \(share)") }
      s.training.generatedLoopShare = share
    }
    if let h = try a.double("curriculum", min: 0, max: 1) { s.training.curriculumHardShare = h == 0 ? nil : h }
    if let l = a.string("maze-labels") {
      guard let v = MazeLabels(rawValue: l) else {
        throw UsageError("--maze-labels must be file, canonical or nearest, got '\(l)'")
      }
      s.training.mazeLabels = v
    }
    if let c = a.string("loss-cells") {
      guard ["open", "all"].contains(c) else { throw UsageError("--loss-cells must be open or all, got '\(c)'") }
      s.layout = s.layout.withOpenCellTargets(c == "open")
    }
    s.training.seed = UInt64(try a.int("seed", default: 0, min: 0))
    s.training.threads = try threads(a)
    do { s = try s.resolved() } catch { throw UsageError("\(error)") }
    let train = data.augmented(copies: try a.int("augment", default: 0, min: 0, max: 1000), seed: s.training.seed)
    return TrainingJob(setup: s, train: train, valid: valid)
  }

  /// The run for a job in `directory`: fresh model, trainer and example stream (never
  /// generating one of `heldOut`).
  static func makeRun(_ job: TrainingJob, directory: URL, heldOut: [Puzzle], _ a: Arguments) throws -> TrainingRun {
    var initial: RecursiveModel? = nil
    if let path = a.string("init") {
      initial = try Checkpoint.loadModel(from: URL(fileURLWithPath: path))
    }
    let trainer: Trainer
    do {
      trainer = try job.setup.makeTrainer(
        train: job.train, heldOut: heldOut, communicator: communicator, initialWeights: initial)
    } catch let e as ModelError where initial != nil {
      throw UsageError("--init \(a.string("init")!): \(e)")
    }
    return try TrainingRun(
      trainer: trainer, layout: job.setup.layout, directory: directory, validation: job.valid,
      validationSupervisionSteps: try a.int("valid-supervision-steps", min: 1, max: 1024),
      checkpointEvery: try a.int("checkpoint-every", default: 500, min: 0),
      validateEvery: try a.int("validate-every", default: 250, min: 0))
  }
}
