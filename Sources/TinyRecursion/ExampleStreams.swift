/// Where a trainer's slots get their next example: on-line augmentation of a file's puzzles, or
/// fresh puzzles generated on the fly. Both are closures for `Trainer.augmentation`, drawing
/// from the trainer's RNG, so a run stays deterministic from its seed and resumable.
public enum ExampleStream {
  /// Every time a slot loads puzzle `i` it gets a fresh random validity-preserving transform of
  /// it (sudoku relabel/permute, maze symmetry, operand swap); with `varying` false, the puzzle
  /// as it is. With `canonicalMazeLabels`, a maze's target is its canonical shortest path in the
  /// frame the slot sees (`Maze.labelled()`), not the file's label.
  public static func augmenting(
    _ puzzles: [Puzzle], layout: TaskLayout, varying: Bool = true, canonicalMazeLabels: Bool = false
  ) -> (Int, inout SplitMix64) -> Example {
    // The trainer checked every file example against the layout; a variant has the same shape.
    let originals = puzzles.map { try? layout.example($0) }
    return { i, rng in
      var p = varying ? puzzles[i].randomVariant(rng: &rng) : puzzles[i]
      if canonicalMazeLabels, case .maze(let m) = p { p = .maze(m.labelled()) }
      guard let e = (try? layout.example(p)) ?? originals[i] else {
        preconditionFailure("augmenting: puzzle \(i) does not fit \(layout.summary) (the trainer rejects such data)")
      }
      return e
    }
  }

  /// Installs the stream a training config asks for on its trainer: fresh generated puzzles
  /// (never one of `heldOut`; mazes in the style of `train`), or on-line augmentation of
  /// `train`, or the file's examples (relabelled when `mazeLabels` asks for it); and, for
  /// `MazeLabels.nearest`, the trainer's choice of targets from the model's answer.
  public static func install(on trainer: Trainer, train: [Puzzle], heldOut: [Puzzle], layout: TaskLayout) throws {
    let labels = layout.task == .maze ? trainer.config.mazeLabels ?? .file : .file
    // `nearest` keeps the canonical label as the slot's stored one (what it falls back to).
    let canonical = labels != .file
    trainer.answerTargets = labels == .nearest ? nearestMazePathTargets() : nil
    if trainer.config.onlineGeneration == true, case .sudoku = layout {
      let curriculum = trainer.config.curriculumHardShare.map { SudokuCurriculum(hardShare: $0) }
      let steps = Double(max(1, trainer.config.optimizerSteps))
      trainer.augmentation = try generatingSudokus(
        layout: layout, excluding: heldOut, curriculum: curriculum,
        progress: { [weak trainer] in Double(trainer?.refillStep ?? 0) / steps })
    } else if trainer.config.onlineGeneration == true, layout.task == .arithmetic {
      trainer.augmentation = try generatingArithmetic(layout: layout, excluding: heldOut)
    } else if trainer.config.onlineGeneration == true {
      trainer.augmentation = try generatingMazes(
        layout: layout, excluding: heldOut,
        loopShare: trainer.config.generatedLoopShare ?? mazeLoopShare, like: train)
    } else if trainer.config.onlineAugmentation || canonical {
      trainer.augmentation = augmenting(
        train, layout: layout, varying: trainer.config.onlineAugmentation, canonicalMazeLabels: canonical)
    }
  }

  /// Targets from the model's current answer (`Trainer.answerTargets`, `MazeLabels.nearest`):
  /// on every open cell, the shortest S→G path whose cells the model scores highest (logit of
  /// `o` minus logit of open, `Maze.nearestShortestPath`); other cells keep their targets. An
  /// input that is not a square maze keeps its targets.
  public static func nearestMazePathTargets() -> ([Int32], [Int32], UnsafeBufferPointer<Float>) -> [Int32] {
    let open = Maze.Cell.open.rawValue, path = Maze.Cell.path.rawValue
    return { inputs, targets, logits in
      let n = inputs.count, side = Int(Double(n).squareRoot().rounded())
      let vocab = n > 0 ? logits.count / n : 0
      let cells = inputs.compactMap { Maze.Cell(rawValue: $0) }
      guard side * side == n, vocab > Int(path), cells.count == n,
        cells.filter({ $0 == .start }).count == 1, cells.filter({ $0 == .goal }).count == 1
      else { return targets }
      let scores = (0..<n).map { logits[$0 * vocab + Int(path)] - logits[$0 * vocab + Int(open)] }
      guard let nearest = Maze(side: side, cells: cells).nearestShortestPath(pathScores: scores)?.solution else {
        return targets
      }
      return (0..<n).map { i in
        cells[i] == .open && targets[i] != Example.ignore ? nearest[i].rawValue : targets[i]
      }
    }
  }

  /// Share of generated training mazes that have loops (with a unique shortest path); the rest
  /// are perfect mazes. Models trained on loop-free mazes only learn dead-end filling, which
  /// fails on loops. Measured on 15×15, 4,000 steps (Benchmarks/results/README.md): loop suite
  /// 52% / 69% / 80% at shares 0.25 / 0.5 / 0.75, perfect suite 89% / 96% / 96%.
  public static let mazeLoopShare = 0.75

  /// Fresh mazes of the layout's side for every slot refill, never one of `excluding` (up to
  /// symmetry): perfect mazes, and `loopShare` of them with loops (15% of the inner walls
  /// removed, unique shortest path). S and G at least a random 1…side moves apart.
  /// The givens targets fresh sudoku puzzles are drawn with, uniformly (clues are removed while
  /// the solution stays unique, so the low end gives minimal puzzles: 9×9 at 22 targets lands at
  /// 23–26 givens, kaggle-"hard" grade): every difficulty from easy to hard in one stream.
  public static func sudokuGivens(size: Int) -> ClosedRange<Int> {
    switch size {
    case 4: return 4...10
    case 6: return 9...22
    default: return 22...36
    }
  }

  /// An easy-to-hard schedule for generated sudoku, by training progress p (optimizer step /
  /// steps): until `openUntil` the fewest givens drawn falls from `easyGivens` to the stream's
  /// floor (the most givens stays the range's top), so the first steps see mostly puzzles that
  /// singles solve; from `rampFrom` to `rampTo` the share of refills that must grade
  /// `hardGuesses` or more (our solver's `Sudoku.guesses`: hard and extreme) rises linearly from
  /// 0 to `hardShare`, and stays there. A hard refill is drawn at the floor's givens and redrawn
  /// until it grades hard (at most `hardTries` draws; about 3 at 9×9's floor, where ~38% of the
  /// minimal puzzles grade hard or extreme).
  public struct SudokuCurriculum: Equatable, Sendable {
    public var hardShare: Double
    public var easyGivens = 30
    public var openUntil = 0.2
    public var rampFrom = 0.2
    public var rampTo = 0.8
    public var hardGuesses = Sudoku.Difficulty.hard.guesses.lowerBound
    public var hardTries = 50

    public init(hardShare: Double) { self.hardShare = hardShare }

    /// The givens range at progress p, within `full`.
    public func givens(at p: Double, full: ClosedRange<Int>) -> ClosedRange<Int> {
      let start = min(max(easyGivens, full.lowerBound), full.upperBound)
      let t = openUntil > 0 ? min(1, max(0, p / openUntil)) : 1
      let low = Int((Double(start) + (Double(full.lowerBound) - Double(start)) * t).rounded())
      return low...full.upperBound
    }

    /// The share of hard refills at progress p.
    public func hardShare(at p: Double) -> Double {
      let t = rampTo > rampFrom ? min(1, max(0, (p - rampFrom) / (rampTo - rampFrom))) : (p >= rampTo ? 1 : 0)
      return hardShare * t
    }
  }

  /// Fresh sudoku puzzles of the layout's size for every slot refill (unique solution, givens
  /// drawn from `givens`), never one of `excluding` up to the augmentations; with a
  /// `curriculum`, drawn by it at the training progress `progress()` returns (0…1).
  public static func generatingSudokus(
    layout: TaskLayout, excluding: [Puzzle], givens: ClosedRange<Int>? = nil,
    curriculum: SudokuCurriculum? = nil, progress: @escaping () -> Double = { 1 }
  ) throws
    -> (Int, inout SplitMix64) -> Example
  {
    guard case .sudoku(let size) = layout else {
      throw TaskError.invalid("on-line sudoku generation needs a sudoku suite, not \(layout.summary)")
    }
    let full = givens ?? sudokuGivens(size: size)
    let held = Set(excluding.map(\.variantKey))
    return { _, rng in
      let p = curriculum == nil ? 1 : progress()
      let range = curriculum?.givens(at: p, full: full) ?? full
      let hard = curriculum.map { rng.nextDouble() < $0.hardShare(at: p) } ?? false
      while true {
        var s: Sudoku
        if hard, let c = curriculum {
          // Each draw is graded once (a solve), not again after it passes.
          s = Sudoku.generate(size: size, givens: full.lowerBound, rng: &rng)
          var tries = 1
          while tries < c.hardTries && s.guesses < c.hardGuesses {
            s = Sudoku.generate(size: size, givens: full.lowerBound, rng: &rng)
            tries += 1
          }
        } else {
          s = Sudoku.generate(size: size, givens: range.lowerBound + rng.nextInt(below: range.count), rng: &rng)
        }
        let puzzle = Puzzle.sudoku(s)
        if !held.isEmpty && held.contains(puzzle.variantKey) { continue }
        guard let e = try? layout.example(puzzle) else { preconditionFailure("a generated sudoku has no solution") }
        return e
      }
    }
  }

  /// Fresh mazes of the layout's side for every slot refill, never one of `excluding` (up to
  /// symmetry). Lattice mazes (what the shipped suites are; also when `like` is empty): perfect
  /// mazes, and `loopShare` of them with loops (15% of the inner walls removed, unique shortest
  /// path), S and G at least a random 1…side moves apart. When the training mazes `like` are
  /// open-plan (no wall border, or an even side: Maze-Hard), mazes of their style
  /// (`OpenPlanMazeStyle.infer`) with canonical labels: half at the file's shortest path length
  /// or more, half at least a random 1…that length (short paths teach the wave first, as the
  /// lattice stream's random S–G distances do).
  public static func generatingMazes(
    layout: TaskLayout, excluding: [Puzzle],
    loopShare: Double = mazeLoopShare, like: [Puzzle] = []
  ) throws -> (Int, inout SplitMix64) -> Example {
    guard case .maze(let side, _) = layout, side >= 5 else {
      throw TaskError.invalid("on-line generation needs a maze suite of side ≥ 5, not \(layout.summary)")
    }
    let style = OpenPlanMazeStyle.infer(from: like.compactMap(\.maze))
    guard style != nil || side % 2 == 1 else {
      throw TaskError.invalid(
        "on-line generation of \(side)×\(side) mazes: lattice mazes need an odd side; give training mazes "
          + "of the open-plan kind to imitate, or train on the file (--no-generate-online --augment-online)")
    }
    let held = Set(excluding.map(\.variantKey))
    return { _, rng in
      while true {
        let m: Maze
        if var style {
          if rng.nextInt(below: 2) == 0 { style.minPathLength = 1 + rng.nextInt(below: style.minPathLength) }
          m = Maze.generateOpenPlan(style, rng: &rng)
        } else {
          let loops = rng.nextDouble() < loopShare ? 0.15 : 0
          m = Maze.generate(side: side, loops: loops, minPathLength: 1 + rng.nextInt(below: side), rng: &rng)
        }
        let p = Puzzle.maze(m)
        if !held.isEmpty && held.contains(p.variantKey) { continue }
        guard let e = try? layout.example(p) else {
          preconditionFailure("a generated \(side)×\(side) maze has no solution")
        }
        return e
      }
    }
  }

  /// Fresh problems for every slot refill, on mixed lengths: each operand's digit count is D (the
  /// layout's digits) half the time, else drawn uniformly from 1…D (shorter operands are
  /// zero-padded in the grid); never a problem reserved for evaluation
  /// (`Arithmetic.isReservedForEvaluation`) nor one of `excluding`, in either operand order.
  public static func generatingArithmetic(
    layout: TaskLayout, excluding: [Puzzle]
  ) throws -> (Int, inout SplitMix64) -> Example {
    let digits: Int, op: Arithmetic.Op
    switch layout {
    case .arithmetic(let o, let d), .arithmeticGrid(let o, let d): (op, digits) = (o, d)
    default: throw TaskError.invalid("on-line arithmetic generation needs an arithmetic suite, not \(layout.summary)")
    }
    let held = Set(excluding.map(\.variantKey))
    return { _, rng in
      while true {
        // Half the operands at the full width (the hardest problems), the rest 1…D digits.
        func length() -> Int { rng.nextInt(below: 2) == 0 ? digits : 1 + rng.nextInt(below: digits) }
        let la = length(), lb = length()
        let x = Arithmetic.generate(op: op, lengths: (la, lb), rng: &rng)
        let p = Puzzle.arithmetic(x)
        if x.isReservedForEvaluation || (!held.isEmpty && held.contains(p.variantKey)) { continue }
        guard let e = try? layout.example(p) else { preconditionFailure("a generated problem does not fit") }
        return e
      }
    }
  }
}
