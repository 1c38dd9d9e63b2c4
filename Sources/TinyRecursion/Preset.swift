/// Named model + training settings for the shipped suites, sized to train in minutes on 2 cores.
/// Plain data: `modelConfig(for:)` turns it into a `ModelConfig` for a task layout.
public struct Preset: Sendable, Equatable {
  public var name: String
  public var summary: String
  /// Hidden width D; attention heads are D / 32 (at least 1).
  public var width: Int
  public var mixer: TokenMixer
  /// The recursion budget the model trains with (n, T, N_sup).
  public var budget: RecursionBudget
  /// SwiGLU hidden widths are rounded up to a multiple of this.
  public var swigluMultiple = 64
  public var training: TrainingConfig
  /// Mazes: supervise only open cells (`TaskLayout.maze(openCellTargets:)`).
  public var openCellTargets = false
  /// Arithmetic: the grid layout (`TaskLayout.arithmeticGrid`) instead of the flat sequence.
  public var arithmeticGrid = false
  /// Share of training slots that keep going past a halt (nil: `ModelConfig`'s default).
  public var haltExploration: Double? = nil
  /// How `trm solve` stops early by default (nil: the halting head; `ModelConfig.solveStopRule`).
  public var solveStopRule: StopRule? = nil

  public init(
    name: String, summary: String, width: Int, mixer: TokenMixer, budget: RecursionBudget,
    training: TrainingConfig
  ) {
    self.name = name
    self.summary = summary
    self.width = width
    self.mixer = mixer
    self.budget = budget
    self.training = training
  }

  /// The model configuration of this preset for puzzles of `layout`: grid convolutions get the
  /// grid's column count and no prefix; the other mixers a one-position prefix for the halting head.
  public func modelConfig(for layout: TaskLayout) -> ModelConfig {
    var c = ModelConfig(vocabSize: layout.vocabularySize, sequenceLength: layout.sequenceLength)
    c.width = width
    c.heads = max(1, width / 32)
    c.mixer = mixer
    c.budget = budget
    c.swigluMultiple = swigluMultiple
    if let haltExploration { c.haltExploration = haltExploration }
    c.solveStopRule = solveStopRule
    if mixer.isGridConvolution {
      c.gridColumns = layout.gridColumns
      c.prefixLength = 0
    }
    return c
  }

  /// The layout this preset trains on for puzzles that infer `layout` (mazes: open-cell targets;
  /// arithmetic: the grid).
  public func trainingLayout(_ layout: TaskLayout) -> TaskLayout {
    if arithmeticGrid, case .arithmetic(let op, let digits) = layout { return .arithmeticGrid(op: op, digits: digits) }
    return openCellTargets ? layout.withOpenCellTargets(true) : layout
  }

  /// The preset a task trains with when none is named: `sudoku4/6/9` by size, `maze`,
  /// `addition` or `multiplication`.
  public static func defaultName(for layout: TaskLayout) -> String {
    if case .sudoku(let n) = layout { return "sudoku\(n)" }
    if let op = layout.op { return op == .add ? "addition" : "multiplication" }
    return layout.task.rawValue
  }

  /// A preset by name, with an error listing the known names.
  public static func named(_ name: String) throws -> Preset {
    guard let p = all[name] else {
      throw TaskError.invalid("unknown preset '\(name)' (known: \(all.keys.sorted().joined(separator: ", ")))")
    }
    return p
  }

  /// All presets by name.
  public static let all: [String: Preset] = {
    var out: [String: Preset] = [:]
    func add(
      _ name: String, _ summary: String, width: Int, mixer: TokenMixer, n: Int, T: Int, nSup: Int, batch: Int,
      steps: Int, lr: Double, supervisionWarmup: Int? = nil
    ) {
      var t = TrainingConfig()
      t.batchSize = batch
      t.optimizerSteps = steps
      t.learningRate = lr
      t.warmupSteps = min(100, steps / 10)
      t.weightDecay = 0.1
      t.emaDecay = 0.995
      t.supervisionWarmup = supervisionWarmup
      let budget = RecursionBudget(latentSteps: n, recursions: T, supervisionSteps: nSup)
      out[name] = Preset(name: name, summary: summary, width: width, mixer: mixer, budget: budget, training: t)
    }
    add(
      "tiny", "CI-sized: 4×4 sudoku in well under a minute", width: 32, mixer: .mlp, n: 2, T: 2, nSup: 4, batch: 32,
      steps: 300, lr: 3e-3)
    add("sudoku4", "4×4 sudoku", width: 64, mixer: .mlp, n: 3, T: 2, nSup: 6, batch: 64, steps: 600, lr: 2e-3)
    add("sudoku6", "6×6 sudoku", width: 96, mixer: .mlp, n: 4, T: 2, nSup: 8, batch: 64, steps: 2000, lr: 1e-3)
    add(
      "sudoku9",
      "9×9 sudoku: fresh puzzles down to minimal ones, batch split over 2 threads "
        + "(2,500 steps: ~40 min on 2 cores of an AVX-512 Xeon; the estimate printed at start gives this machine's)",
      width: 128, mixer: .mlp, n: 6, T: 3, nSup: 8, batch: 64, steps: 2500, lr: 1e-3)
    // Fresh puzzles of every difficulty down to minimal ones (the public files are hard ones),
    // and the batch split over two threads. (The easy-to-hard curriculum, `--curriculum 0.5`,
    // with cosine decay over 2,000 steps: measured in the results README, not the preset.)
    out["sudoku9"]?.training.onlineGeneration = true
    out["sudoku9"]?.training.microBatches = 2
    add(
      "maze-attention", "mazes with the attention mixer (earlier preset; stays at the copy level)", width: 64,
      mixer: .attention, n: 4, T: 2, nSup: 8, batch: 32, steps: 2000, lr: 1e-3)
    // Mazes: 3×3 conv mixer (any grid size), fresh generated mazes for every slot, open-cell
    // loss, staggered slots, gradient clipping, cosine decay (the settings of the PyTorch probe
    // in ../shared/bench/conv_trm_maze.py, see Benchmarks/results/README.md).
    add(
      "maze",
      "mazes: 3×3 conv mixer, fresh mazes on the fly, any grid size at test time "
        + "(14,000 steps, batch split over 2 threads: ~25 min on 2 cores)", width: 32, mixer: .conv, n: 4, T: 2,
      nSup: 8, batch: 32, steps: 14000, lr: 1e-3)
    // Two micro-batches: 0.13 → 0.095 s per step on 2 cores, spent on 14,000 steps instead of 11,000
    // (validation still rose at 11,000, and the 31×31 extrapolation improves with steps).
    out["maze"]?.training.microBatches = 2
    out["maze"]?.openCellTargets = true
    out["maze"]?.swigluMultiple = 8
    out["maze"]?.training.weightDecay = 0.01
    out["maze"]?.training.loss = .softmax
    out["maze"]?.training.schedule = .cosine
    out["maze"]?.training.warmupSteps = 50
    out["maze"]?.training.staggerSlots = true
    out["maze"]?.training.gradientClip = 1
    out["maze"]?.training.onlineGeneration = true
    // Mazes with several shortest paths (Maze-Hard) train on the canonical one, not the file's.
    out["maze"]?.training.mazeLabels = .canonical
    add(
      "arithmetic", "addition / multiplication as a flat sequence with attention (earlier preset, fixed length)",
      width: 64, mixer: .attention, n: 3, T: 2, nSup: 6, batch: 64, steps: 1500, lr: 1e-3, supervisionWarmup: 1000)
    // Arithmetic on the digit grid (`Arithmetic.Grid`): 3×3 conv mixer, so one checkpoint reads
    // numbers of any length; fresh problems of 1…D digits per operand on the fly.
    for (name, summary, steps) in [
      ("addition", "addition on the digit grid: conv mixer, any length at test time (6,000 steps: ~5 min)", 6000),
      (
        "multiplication",
        "multiplication on the digit grid with partial-product and running-sum rows (8,000 steps: 3×3 digits ~17 min, "
          + "4×4 ~33 min on 2 cores)",
        8000
      ),
    ] {
      add(name, summary, width: 64, mixer: .conv, n: 4, T: 2, nSup: 8, batch: 64, steps: steps, lr: 1e-3)
      out[name]?.arithmeticGrid = true
      out[name]?.swigluMultiple = 8
      out[name]?.training.weightDecay = 0.01
      out[name]?.training.loss = .softmax
      out[name]?.training.schedule = .cosine
      out[name]?.training.warmupSteps = 50
      out[name]?.training.staggerSlots = true
      out[name]?.training.gradientClip = 1
      out[name]?.training.onlineGeneration = true
    }
    // Half the slots keep going past a halt: without it the multiplication model is rarely
    // trained on states after its answer was right, and drifts when run longer (3×3 at 8 steps:
    // 95.1% with 0.1, 99.8% with 0.5; 4×4: 90.4% → 98.2%; Benchmarks/results/README.md).
    out["multiplication"]?.haltExploration = 0.5
    // Both arithmetic heads stop after about one step, trained on short numbers, while a longer
    // product or carry still needs more: solves stop when the answer stops changing instead
    // (4×4 products: 91.8% → 98.4% at 2.18 steps, 5×5: 10.0% → 89.5%; 32-digit sums with a
    // 24-place carry chain: 68.8% → 100% at 2.51 steps; Benchmarks/results/README.md).
    for name in ["addition", "multiplication"] { out[name]?.solveStopRule = .untilStable }
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
      c.budget = RecursionBudget(latentSteps: 0, recursions: 1, supervisionSteps: 1)
      c.solveStopRule = nil
      let gap = abs(Double(count(c)) - target) / target
      if gap < bestGap - 1e-9 { best = c; bestGap = gap }
    }
    if bestGap <= 0.1 { break }
  }
  return best
}
