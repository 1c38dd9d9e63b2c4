import Foundation

/// A training job configured from Swift: the task layout, the model and the optimisation
/// settings — what `trm train` builds from its flags. Start from a preset, change fields, then
/// `makeTrainer` (step it yourself) or `Reasoner.train` (train and get a solver back).
///
/// ```swift
/// let puzzles = try PuzzleSet.load(path: "Puzzles/sudoku4/train.txt")
/// var setup = try TrainingSetup(puzzles: puzzles)          // the task's preset (sudoku4)
/// setup.training.optimizerSteps = 300
/// let reasoner = try Reasoner.train(setup, on: puzzles.puzzles) { m in print(m.step, m.loss) }
/// try reasoner.save(to: URL(fileURLWithPath: "sudoku4.safetensors"))
/// ```
public struct TrainingSetup: Sendable {
  public var layout: TaskLayout
  public var model: ModelConfig
  public var training: TrainingConfig

  /// A preset's settings for puzzles of `layout`.
  public init(layout: TaskLayout, preset: Preset) {
    self.layout = preset.trainingLayout(layout)
    model = preset.modelConfig(for: self.layout)
    training = preset.training
  }

  /// The settings of `preset` (nil: the task's default preset) for the layout of `puzzles`
  /// (one size per training file; a mismatch is an error naming the file and line).
  public init(puzzles: PuzzleSet, preset: String? = nil) throws {
    let layout = try TaskLayout.infer(from: puzzles)
    self.init(layout: layout, preset: try Preset.named(preset ?? Preset.defaultName(for: layout)))
  }

  /// Switches the token mixer, keeping its rules: grid convolutions run on the grid's cells only
  /// (no prefix; the halting head reads the cell mean), the others need a prefix position and
  /// use 1-D positions.
  public mutating func setMixer(_ mixer: TokenMixer) throws {
    model.mixer = mixer
    if mixer.isGridConvolution {
      guard let g = layout.gridColumns else {
        throw TaskError.invalid(
          "the \(mixer.rawValue) mixer needs a grid task (sudoku, maze, arithmetic grid), not \(layout.summary)")
      }
      model.gridColumns = g
      model.prefixLength = 0
    } else {
      // Attention gets 2-D positions only when asked for (set gridColumns after this call).
      model.gridColumns = nil
      if model.prefixLength == 0 { model.prefixLength = 1 }
    }
  }

  /// The parameter-matched direct baseline for this setup (same data and optimisation).
  public var baseline: TrainingSetup {
    var s = self
    s.model = baselineConfig(matching: model)
    return s
  }

  /// The setup as it will run: checks the model configuration; on-line maze generation needs a
  /// side ≥ 5 (lattice mazes, or open-plan ones like the training file's, e.g. Maze-Hard's
  /// 30×30) — otherwise the file's puzzles are used with on-line augmentation; warm-up is at most
  /// a tenth of the run.
  public func resolved() throws -> TrainingSetup {
    var s = self
    try s.model.validate()
    guard s.model.vocabSize == layout.vocabularySize, s.model.sequenceLength == layout.sequenceLength else {
      throw TaskError.invalid(
        "the model is sized for \(model.sequenceLength) cells of vocabulary \(model.vocabSize), "
          + "\(layout.summary) needs \(layout.sequenceLength) and \(layout.vocabularySize)")
    }
    // On-line generation: mazes of side ≥ 5 (`ExampleStream.generatingMazes`), sudoku, arithmetic.
    if s.training.onlineGeneration == true {
      var generatable = false
      if case .maze(let side, _) = layout { generatable = side >= 5 }
      if case .sudoku = layout { generatable = true }
      if layout.task == .arithmetic { generatable = true }
      if !generatable {
        s.training.onlineGeneration = nil
        s.training.onlineAugmentation = true
      }
    }
    s.training.warmupSteps = min(s.training.warmupSteps, max(1, s.training.optimizerSteps / 10))
    if let k = s.training.microBatches, s.training.batchSize % k != 0 {
      throw TaskError.invalid(
        "a batch of \(s.training.batchSize) does not split into \(k) micro-batches: choose a multiple of \(k) "
          + "(or --micro-batches 1)")
    }
    return s
  }

  /// A fresh model and its trainer on `train`, with the example stream the config asks for
  /// (fresh generated mazes never equal, up to symmetry, to one of `heldOut`; or on-line
  /// augmentation). Same setup and seed → same run.
  /// With a `communicator`, this process computes its share of a data-parallel batch
  /// (`Trainer.shard`).
  /// With `initialWeights`, the model starts from those weights (`RecursiveModel.loadWeights`)
  /// instead of a random init.
  public func makeTrainer(
    train: [Puzzle], heldOut: [Puzzle] = [], communicator: Communicator? = nil,
    initialWeights: RecursiveModel? = nil
  ) throws -> Trainer {
    let s = try resolved()
    let model = try RecursiveModel(config: s.model, seed: s.training.seed)
    if let initialWeights { try model.loadWeights(from: initialWeights) }
    let trainer = try Trainer(
      model: model, config: s.training, data: try train.map { try s.layout.example($0) }, communicator: communicator)
    try ExampleStream.install(on: trainer, train: train, heldOut: heldOut, layout: s.layout)
    return trainer
  }
}
