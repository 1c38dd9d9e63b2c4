import Foundation

/// One solved puzzle.
public struct Solution: Sendable {
  public var puzzle: Puzzle
  /// The predicted answer in the task's text format.
  public var answer: String
  /// `INPUT,ANSWER` (arithmetic `A+B=C`), checkable by any external tool.
  public var line: String
  /// nil when the verifier accepts the answer, otherwise why not.
  public var verdict: String?
  public var isValid: Bool { verdict == nil }
  /// Whether the answer equals the puzzle's stated solution (nil if it has none).
  public var matchesLabel: Bool?
  /// Supervision steps used.
  public var supervisionSteps: Int
  /// σ(halt logit) when the answer was taken: the model's confidence that it is done.
  public var confidence: Double?
  /// Views of the puzzle tried (`solve(attempts:)`): 1 unless the first answer failed to verify.
  public var attempts = 1
}

/// Accuracy of a model on a labelled suite.
public struct SuiteScore: Sendable, Codable {
  public var count: Int
  public var exactAccuracy: Double
  public var verifiedAccuracy: Double
  public var cellAccuracy: Double
  public var meanSupervisionSteps: Double
  public var msPerExample: Double
  /// Analytic forward FLOPs per example: FLOPs of one supervision step × mean steps used.
  public var flopsPerExample: Double = 0
  /// Cost per *verified* solve: FLOPs and milliseconds spent on all examples / number solved
  /// (nil when nothing was solved).
  public var flopsPerSolved: Double? { verifiedAccuracy > 0 ? flopsPerExample / verifiedAccuracy : nil }
  public var msPerSolved: Double? { verifiedAccuracy > 0 ? msPerExample / verifiedAccuracy : nil }

  enum CodingKeys: String, CodingKey {
    case count, exactAccuracy = "exact_accuracy", verifiedAccuracy = "verified_accuracy", cellAccuracy = "cell_accuracy"
    case meanSupervisionSteps = "mean_steps", msPerExample = "ms_per_example", flopsPerExample = "flops_per_example"
    case flopsPerSolved = "flops_per_solved", msPerSolved = "ms_per_solved"
  }

  public init(
    count: Int, exactAccuracy: Double, verifiedAccuracy: Double, cellAccuracy: Double, meanSupervisionSteps: Double,
    msPerExample: Double, flopsPerExample: Double
  ) {
    self.count = count
    self.exactAccuracy = exactAccuracy
    self.verifiedAccuracy = verifiedAccuracy
    self.cellAccuracy = cellAccuracy
    self.meanSupervisionSteps = meanSupervisionSteps
    self.msPerExample = msPerExample
    self.flopsPerExample = flopsPerExample
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    count = try c.decode(Int.self, forKey: .count)
    exactAccuracy = try c.decode(Double.self, forKey: .exactAccuracy)
    verifiedAccuracy = try c.decode(Double.self, forKey: .verifiedAccuracy)
    cellAccuracy = try c.decode(Double.self, forKey: .cellAccuracy)
    meanSupervisionSteps = try c.decode(Double.self, forKey: .meanSupervisionSteps)
    msPerExample = try c.decode(Double.self, forKey: .msPerExample)
    flopsPerExample = try c.decodeIfPresent(Double.self, forKey: .flopsPerExample) ?? 0
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(count, forKey: .count)
    try c.encode(exactAccuracy, forKey: .exactAccuracy)
    try c.encode(verifiedAccuracy, forKey: .verifiedAccuracy)
    try c.encode(cellAccuracy, forKey: .cellAccuracy)
    try c.encode(meanSupervisionSteps, forKey: .meanSupervisionSteps)
    try c.encode(msPerExample, forKey: .msPerExample)
    try c.encode(flopsPerExample, forKey: .flopsPerExample)
    try c.encode(flopsPerSolved, forKey: .flopsPerSolved)
    try c.encode(msPerSolved, forKey: .msPerSolved)
  }
}

/// A trained model used as a reasoning component: load a checkpoint, solve, verify, score;
/// or train one from Swift (`Reasoner.train`) and save it.
///
/// ```swift
/// let reasoner = try Reasoner(checkpoint: URL(fileURLWithPath: "run/model.safetensors"))
/// let s = try reasoner.solve("1.3.....2......1")
/// print(s.answer, s.isValid, s.supervisionSteps, s.confidence ?? 0)
/// ```
///
/// Not `Sendable`: a reasoner holds a mutable budget and thread count; give each thread its own
/// (`Reasoner(model:layout:)` on a shared, read-only model is cheap). Its results (`Solution`,
/// `SuiteScore`, `ThinkingTrace`) are `Sendable` values.
public final class Reasoner {
  public let model: RecursiveModel
  public let layout: TaskLayout
  public var threads: Int
  /// How long the model thinks (n, T, N_sup); starts as the trained budget. Change it freely:
  /// no parameter depends on it (`supervisionSteps:` arguments override N_sup per call).
  public var budget: RecursionBudget
  /// How a call with `halt: true` stops each puzzle early: `.haltingHead` (when the model's
  /// halting head says the answer is done) or `.untilStable` (at the first supervision step, from
  /// the second on, that leaves the answer unchanged; the halting head is not consulted — a rule
  /// that does not depend on the size the head was trained at: a 4-digit multiplication head
  /// stops 6-digit products after one step). Starts as the model's own rule
  /// (`ModelConfig.solveStopRule`: `.untilStable` for the arithmetic presets), else the halting
  /// head; set it to override. Applies to `solve` and `score`; with `halt: false` every puzzle
  /// runs all the budget's (or the call's) supervision steps.
  public var stopRule: StopRule

  /// Loads a checkpoint written by `trm train` or `save(to:)` (EMA weights when present).
  public convenience init(checkpoint: URL, threads: Int = 1) throws {
    let file = try Checkpoint.read(checkpoint)
    self.init(model: try file.model(), layout: try file.taskLayout(), threads: threads)
  }

  /// Wraps an in-memory model.
  public init(model: RecursiveModel, layout: TaskLayout, threads: Int = 1) {
    self.model = model
    self.layout = layout
    self.threads = threads
    budget = model.config.budget
    stopRule = model.config.solveStopRule ?? .haltingHead
  }

  /// Writes the model and its task layout: a checkpoint that `Reasoner(checkpoint:)`, `trm eval`
  /// and `trm solve` load.
  public func save(to url: URL) throws {
    try Checkpoint.save(model: model, annotations: .init(task: try layout.checkpointJSON()), to: url)
  }

  /// Trains a model as `setup` says on `train` (never generating one of `heldOut`), calling
  /// `progress` after every optimizer step, and returns a reasoner on the evaluation (EMA)
  /// weights. For checkpoints, validation and resume while training, use `TrainingRun`.
  public static func train(
    _ setup: TrainingSetup, on train: [Puzzle], heldOut: [Puzzle] = [],
    progress: (StepMetrics) -> Void = { _ in }
  ) throws -> Reasoner {
    let trainer = try setup.makeTrainer(train: train, heldOut: heldOut)
    while trainer.step < trainer.config.optimizerSteps { progress(trainer.trainStep()) }
    return Reasoner(model: try trainer.evaluationModel(), layout: setup.layout, threads: setup.training.threads)
  }

  /// This reasoner for puzzles of another size of the same task (e.g. a maze model trained on
  /// 15×15 applied to 31×31): the same weights. Needs a size-independent mixer (conv, or
  /// attention); the MLP mixer gets an error naming the sizes.
  public func adapted(to other: TaskLayout) throws -> Reasoner {
    guard other.task == layout.task, other.op == layout.op else {
      throw TaskError.invalid(
        "the model was trained on \(layout.summary), not "
          + (other.op.map { "\($0.rawValue) problems" } ?? other.task.rawValue))
    }
    let other = layout.resized(like: other)
    if other == layout { return self }
    guard other.vocabularySize == layout.vocabularySize else {
      throw TaskError.invalid("\(other.summary) uses a different vocabulary than \(layout.summary)")
    }
    let r = Reasoner(
      model: try model.resized(sequenceLength: other.sequenceLength, gridColumns: other.gridColumns),
      layout: other, threads: threads)
    r.budget = budget
    r.stopRule = stopRule
    return r
  }

  /// The evaluator's two stop switches for a call with `halt`: at most one is on.
  func stopSwitches(halt: Bool) -> (halt: Bool, untilStable: Bool) {
    (halt && stopRule == .haltingHead, halt && stopRule == .untilStable)
  }

  /// The budget for one call, checked (n ≤ 256, T ≤ 256, N_sup ≤ 1024): a typo cannot make a
  /// solve run for ever.
  func budget(supervisionSteps: Int?) throws -> RecursionBudget {
    var b = budget
    if let supervisionSteps { b.supervisionSteps = supervisionSteps }
    try b.validate()
    return b
  }

  /// Solves one puzzle given as a line of the task's format (a stated solution is ignored
  /// for solving and used for `matchesLabel`).
  public func solve(_ line: String, supervisionSteps: Int? = nil, halt: Bool = true) throws -> Solution {
    try solve([try Puzzle(line: line, task: layout.task)], supervisionSteps: supervisionSteps, halt: halt)[0]
  }

  /// Solves a batch. `supervisionSteps` defaults to `budget.supervisionSteps`; with `halt` each
  /// puzzle stops early by `stopRule` (the halting head unless the model says otherwise).
  /// Puzzles of other sizes than the training layout (a file may mix maze sizes) are grouped
  /// by size and each group runs the same weights at its size (`adapted(to:)`).
  public func solve(_ puzzles: [Puzzle], supervisionSteps: Int? = nil, halt: Bool = true) throws -> [Solution] {
    let groups = try sizeGroups(puzzles)
    if groups.count > 1 || groups.first?.reasoner !== self {
      var out = [Solution?](repeating: nil, count: puzzles.count)
      for g in groups {
        let part = try g.reasoner.solve(g.indices.map { puzzles[$0] }, supervisionSteps: supervisionSteps, halt: halt)
        for (i, s) in zip(g.indices, part) { out[i] = s }
      }
      return out.compactMap { $0 }
    }
    let inputs = try puzzles.map { try layout.inputTokens($0) }
    let stop = stopSwitches(halt: halt)
    let preds = Evaluator.predict(
      model: model, inputs: inputs, budget: try budget(supervisionSteps: supervisionSteps),
      halt: stop.halt, untilStable: stop.untilStable, threads: threads)
    return zip(puzzles, preds).map { p, pred in
      let (text, verdict) = layout.answer(for: p, tokens: pred.tokens)
      let label = (try? layout.example(p)).map { $0.grade(pred.tokens).exact }
      return Solution(
        puzzle: p, answer: text, line: layout.outputLine(for: p, answer: text), verdict: verdict,
        matchesLabel: label, supervisionSteps: pred.supervisionSteps, confidence: pred.haltProbability)
    }
  }

  /// Exact, verified and cell accuracy on labelled puzzles; with `halt`, each puzzle stops early
  /// by `stopRule`, as in `solve`. Mixed sizes are grouped as in `solve` and the figures
  /// combined, weighted by puzzle count.
  public func score(_ puzzles: [Puzzle], supervisionSteps: Int? = nil, halt: Bool = false) throws -> SuiteScore {
    let groups = try sizeGroups(puzzles)
    if groups.count > 1 || groups.first?.reasoner !== self {
      let parts = try groups.map {
        try $0.reasoner.score($0.indices.map { puzzles[$0] }, supervisionSteps: supervisionSteps, halt: halt)
      }
      let n = Double(max(1, puzzles.count))
      func mean(_ f: (SuiteScore) -> Double) -> Double { parts.reduce(0) { $0 + f($1) * Double($1.count) } / n }
      return SuiteScore(
        count: puzzles.count, exactAccuracy: mean(\.exactAccuracy), verifiedAccuracy: mean(\.verifiedAccuracy),
        cellAccuracy: mean(\.cellAccuracy), meanSupervisionSteps: mean(\.meanSupervisionSteps),
        msPerExample: mean(\.msPerExample),
        flopsPerExample: mean(\.flopsPerExample))
    }
    let stop = stopSwitches(halt: halt)
    return try scoreSuite(
      model: model, layout: layout, puzzles: puzzles, budget: try budget(supervisionSteps: supervisionSteps),
      halt: stop.halt, untilStable: stop.untilStable, threads: threads)
  }
}

// MARK: - Verified test-time search

extension Reasoner {
  /// Verified test-time search: each puzzle is solved as given; a puzzle whose answer the
  /// verifier rejects is solved again on a random symmetric view (sudoku relabelling,
  /// permutations, transpose; maze symmetries; swapped operands), the answer mapped back and
  /// verified, up to `attempts` views in all; it stops at the first verified answer, so easy
  /// puzzles cost one attempt. When no view verifies, the answer is the cell-wise majority of
  /// all views' answers (ties: the earliest). Deterministic from `seed`.
  public func solve(
    _ puzzles: [Puzzle], supervisionSteps: Int? = nil, halt: Bool = true, attempts: Int,
    seed: UInt64 = 0
  ) throws -> [Solution] {
    guard (1...1024).contains(attempts) else {
      throw TaskError.invalid("attempts must be in 1…1024, got \(attempts)")
    }
    var best = try solve(puzzles, supervisionSteps: supervisionSteps, halt: halt)
    var answers = best.map { [$0.answer] }
    var rng = SplitMix64(seed: seed ^ 0xA77E_3975)
    var open = best.indices.filter { best[$0].verdict != nil }
    for _ in 1..<attempts where !open.isEmpty {
      let views = open.map { puzzles[$0].randomSymmetry(rng: &rng) }
      let solved = try solve(
        zip(open, views).map { puzzles[$0].applying($1) }, supervisionSteps: supervisionSteps, halt: halt)
      for (j, i) in open.enumerated() {
        let text = puzzles[i].answerBack(solved[j].answer, from: views[j])
        answers[i].append(text)
        best[i].attempts += 1
        if puzzles[i].verify(answerText: text) == nil {
          best[i] = solution(puzzles[i], text: text, from: solved[j], attempts: best[i].attempts)
        }
      }
      open = open.filter { best[$0].verdict != nil }
    }
    for i in open where answers[i].count > 1 {
      best[i] = solution(puzzles[i], text: Self.majority(answers[i]), from: best[i], attempts: best[i].attempts)
    }
    return best
  }

  func solution(_ p: Puzzle, text: String, from s: Solution, attempts: Int) -> Solution {
    Solution(
      puzzle: p, answer: text, line: layout.outputLine(for: p, answer: text), verdict: p.verify(answerText: text),
      matchesLabel: p.labelText.map { $0 == text }, supervisionSteps: s.supervisionSteps,
      confidence: s.confidence, attempts: attempts)
  }

  /// The cell-wise majority of equally long answers (whole answers otherwise); ties go to the
  /// earliest answer's choice.
  static func majority(_ answers: [String]) -> String {
    let rows = answers.map(Array.init)
    guard let n = rows.first?.count, rows.allSatisfy({ $0.count == n }), n > 0 else {
      var counts: [String: Int] = [:]
      for a in answers { counts[a, default: 0] += 1 }
      return answers.max { counts[$0, default: 0] < counts[$1, default: 0] } ?? ""
    }
    return String(
      (0..<n).map { i -> Character in
        var counts: [Character: Int] = [:]
        for r in rows { counts[r[i], default: 0] += 1 }
        return rows.map { $0[i] }.max { counts[$0, default: 0] < counts[$1, default: 0] } ?? rows[0][i]
      })
  }

  /// Accuracy with verified test-time search: exact (label) and verified accuracy, the mean
  /// number of views tried, and the forward FLOPs spent per puzzle (all views, all steps).
  public func score(
    _ puzzles: [Puzzle], supervisionSteps: Int? = nil, halt: Bool = false, attempts: Int,
    seed: UInt64 = 0
  ) throws -> (score: SuiteScore, meanAttempts: Double) {
    let t0 = DispatchTime.now().uptimeNanoseconds
    let sols = try solve(puzzles, supervisionSteps: supervisionSteps, halt: halt, attempts: attempts, seed: seed)
    let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
    let n = Double(max(1, puzzles.count))
    var cells = 0, total = 0
    for s in sols {
      guard let label = s.puzzle.labelText else { continue }
      cells += zip(label, s.answer).filter { $0 == $1 }.count
      total += label.count
    }
    let steps = sols.reduce(0.0) { $0 + Double($1.supervisionSteps * $1.attempts) } / n
    let score = SuiteScore(
      count: puzzles.count, exactAccuracy: Double(sols.filter { $0.matchesLabel == true }.count) / n,
      verifiedAccuracy: Double(sols.filter(\.isValid).count) / n, cellAccuracy: Double(cells) / Double(max(1, total)),
      meanSupervisionSteps: steps, msPerExample: ms / n,
      flopsPerExample: model.forwardFlopsPerExample(budget: try budget(supervisionSteps: supervisionSteps)) * steps)
    return (score, sols.reduce(0.0) { $0 + Double($1.attempts) } / n)
  }
}

extension Reasoner {
  /// The puzzles' indices grouped by the layout they need, in first-seen order, each with a
  /// reasoner for that size (this one where the training layout fits).
  func sizeGroups(_ puzzles: [Puzzle]) throws -> [(reasoner: Reasoner, indices: [Int])] {
    var order: [TaskLayout] = []
    var members: [TaskLayout: [Int]] = [:]
    for (i, p) in puzzles.enumerated() {
      let l = layout.fits(p) ? layout : try TaskLayout.infer(from: PuzzleSet(task: layout.task, puzzles: [p]))
      if members[l] == nil { order.append(l) }
      members[l, default: []].append(i)
    }
    return try order.map { (l: TaskLayout) in (l == layout ? self : try adapted(to: l), members[l] ?? []) }
  }
}

/// Scores a model on labelled puzzles: exact (label) and verified (verifier) accuracy.
public func scoreSuite(
  model: RecursiveModel, layout: TaskLayout, puzzles: [Puzzle], budget: RecursionBudget? = nil,
  halt: Bool, untilStable: Bool = false, threads: Int
) throws -> SuiteScore {
  let examples = try puzzles.map { try layout.example($0) }
  let r = Evaluator.evaluate(
    model: model, examples: examples, budget: budget, halt: halt, untilStable: untilStable, threads: threads)
  var verified = 0
  for (p, pred) in zip(puzzles, r.predictions) where layout.answer(for: p, tokens: pred.tokens).verdict == nil {
    verified += 1
  }
  return SuiteScore(
    count: r.count, exactAccuracy: r.exactAccuracy, verifiedAccuracy: Double(verified) / Double(max(1, r.count)),
    cellAccuracy: r.cellAccuracy, meanSupervisionSteps: r.meanSupervisionSteps, msPerExample: r.millisecondsPerExample,
    flopsPerExample: model.forwardFlopsPerExample(budget: budget) * r.meanSupervisionSteps)
}

extension LoadedCheckpoint {
  /// The task layout stored by `trm train` / `Reasoner.save` (metadata `task`).
  public func taskLayout() throws -> TaskLayout {
    guard let json = annotations.task else {
      throw ModelError.checkpoint(
        "\(url.path): no task layout in metadata (not written by trm train or Reasoner.save?)")
    }
    do { return try JSONDecoder().decode(TaskLayout.self, from: Data(json.utf8)) } catch {
      throw ModelError.checkpoint("\(url.path): unreadable task layout \(json.prefix(80)): \(error)")
    }
  }
}

extension TaskLayout {
  /// The JSON stored as a checkpoint's `task` metadata (sorted keys, stable).
  public func checkpointJSON() throws -> String {
    let enc = JSONEncoder()
    enc.outputFormatting = .sortedKeys
    return String(decoding: try enc.encode(self), as: UTF8.self)
  }
}
