import Dispatch
import Foundation
import TinyRecursion

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The run being trained, so Ctrl-C can ask it to stop and checkpoint.
nonisolated(unsafe) private var activeRun: TrainingRun?

extension CommandLineTool {
  static let trainOptions: Set<String> = ["data", "valid", "task", "model", "preset", "width", "blocks", "mixer", "latent-steps", "recursions",
                                          "supervision-steps", "heads", "steps", "batch", "lr", "weight-decay", "loss", "augment", "seed", "threads",
                                          "checkpoint-every", "validate-every", "out", "resume", "eval-steps", "halt-loss-weight", "supervision-warmup",
                                          "positions", "loss-cells", "loop-share"]

  /// Installs the trainer's example stream: fresh generated mazes (never one of `heldOut`), or
  /// on-line augmentation of the file's puzzles, as its config says.
  static func installStream(_ trainer: Trainer, train: [Puzzle], heldOut: [Puzzle], layout: TaskLayout) throws {
    if trainer.config.onlineGeneration == true {
      trainer.augmentation = try ExampleStream.generatingMazes(layout: layout, excluding: heldOut,
                                                               loopShare: trainer.config.generatedLoopShare ?? ExampleStream.mazeLoopShare)
    } else if trainer.config.onlineAugmentation {
      trainer.augmentation = ExampleStream.augmenting(train, layout: layout)
    }
  }

  /// Expands a training set with seeded validity-preserving augmentations (K extra copies).
  static func augment(_ puzzles: [Puzzle], copies: Int, seed: UInt64) -> [Puzzle] {
    guard copies > 0 else { return puzzles }
    var rng = SplitMix64(seed: seed ^ 0xA06)
    var out = puzzles
    for _ in 0..<copies {
      for p in puzzles {
        switch p {
        case .sudoku(let s): out.append(.sudoku(s.augmented(rng: &rng)))
        case .maze(let m): out.append(.maze(m.dihedral(1 + rng.nextInt(below: 7))))
        case .arithmetic(let x): out.append(.arithmetic(x.swapped))
        }
      }
    }
    return out
  }

  struct Setup {
    var layout: TaskLayout
    var model: ModelConfig
    var training: TrainingConfig
    var train: [Puzzle]
    var valid: [Puzzle]
  }

  static func setup(_ a: Arguments, kind: ModelKind? = nil) throws -> Setup {
    let data = try loadSet(try a.required("data"), task: try task(a))
    var layout = try TaskLayout.infer(from: data)
    let valid = try a.string("valid").map { try loadSet($0, task: data.task).puzzles } ?? []
    for p in valid where !layout.fits(p) { throw UsageError("validation puzzle \(p.inputText.prefix(30)) does not match the training layout \(layout.summary)") }
    let presetName = a.string("preset") ?? (layout.task == .sudoku ? "sudoku\(layout.sudokuSize!)" : layout.task.rawValue)
    guard let preset = Preset.all[presetName] ?? Preset.all["sudoku9"].flatMap({ presetName.hasPrefix("sudoku") ? $0 : nil }) else {
      throw UsageError("unknown preset '\(presetName)' (known: \(Preset.all.keys.sorted().joined(separator: ", ")))")
    }
    var m = preset.model(ModelConfig(vocabSize: layout.vocabularySize, sequenceLength: layout.sequenceLength))
    if preset.openCellTargets && layout.task == .maze { layout.openCellTargets = true }
    if let w = try a.int("width", min: 2) { m.width = w; m.heads = max(1, w / 32) }
    if let h = try a.int("heads", min: 1) { m.heads = h }
    if let b = try a.int("blocks", min: 1) { m.blocks = b }
    if let mx = a.string("mixer") {
      guard let v = TokenMixer(rawValue: mx) else { throw UsageError("--mixer must be conv, depthwise, attention or mlp") }
      m.mixer = v
    }
    if m.mixer.isGridConvolution {
      guard let g = layout.gridColumns else { throw UsageError("--mixer \(m.mixer.rawValue) needs a grid task (sudoku, maze), not \(layout.summary)") }
      m.gridColumns = g
      m.prefixLength = 0
    } else if m.prefixLength == 0 {
      m.prefixLength = 1
    }
    let positions = a.string("positions") ?? "1d"
    switch positions {
    case "1d": if m.mixer == .attention { m.gridColumns = nil }
    case "2d":
      guard m.mixer == .attention else { throw UsageError("--positions 2d needs the attention mixer") }
      guard let g = layout.gridColumns else { throw UsageError("--positions 2d needs a grid task (sudoku, maze), not \(layout.summary)") }
      m.gridColumns = g
    default: throw UsageError("--positions must be 1d or 2d, got '\(positions)'")
    }
    if let n = try a.int("latent-steps", min: 0) { m.latentSteps = n }
    if let t = try a.int("recursions", min: 1) { m.recursions = t }
    if let s = try a.int("supervision-steps", min: 1) { m.supervisionSteps = s }
    let modelKind = try kind ?? a.string("model").map { s -> ModelKind in
      guard let k = ModelKind(rawValue: s) else { throw UsageError("--model must be trm or baseline") }
      return k
    } ?? .trm
    if modelKind == .baseline { m = baselineConfig(matching: m) }
    do { try m.validate() } catch { throw UsageError("\(error)") }
    var t = preset.training
    if let s = try a.int("steps", min: 1) { t.steps = s }
    if let b = try a.int("batch", min: 1) { t.batchSize = b }
    if let lr = try a.double("lr") { t.learningRate = lr }
    if let wd = try a.double("weight-decay") { t.weightDecay = wd }
    if let h = try a.double("halt-loss-weight") { t.haltLossWeight = h }
    if let w = try a.int("supervision-warmup", min: 0) { t.supervisionWarmup = w }
    if let l = a.string("loss") {
      guard let v = CrossEntropyKind(rawValue: l) else { throw UsageError("--loss must be stablemax or softmax") }
      t.loss = v
    }
    if a.has("no-ema") { t.useEMA = false }
    if a.has("one-step-gradient") { t.oneStepGradient = true }
    if a.has("augment-online") { t.onlineAugmentation = true }
    if a.has("generate-online") { t.onlineGeneration = true }
    if a.has("no-generate-online") { t.onlineGeneration = nil }
    if let share = try a.double("loop-share") {
      guard (0...1).contains(share) else { throw UsageError("--loop-share must be in [0, 1], got \(share)") }
      t.generatedLoopShare = share
    }
    // On-line generation needs a maze size the generator makes (odd side ≥ 5); otherwise (other
    // tasks, Maze-Hard's 30×30) the file's puzzles are used, with on-line augmentation.
    if t.onlineGeneration == true, layout.task != .maze || (layout.mazeSide ?? 0) < 5 || (layout.mazeSide ?? 0) % 2 == 0 {
      t.onlineGeneration = nil
      t.onlineAugmentation = true
    }
    if let c = a.string("loss-cells") {
      guard ["open", "all"].contains(c) else { throw UsageError("--loss-cells must be open or all, got '\(c)'") }
      if layout.task == .maze { layout.openCellTargets = c == "open" ? true : nil }
    }
    t.seed = UInt64(try a.int("seed", default: 0, min: 0)!)
    t.threads = try threads(a)
    t.warmupSteps = min(t.warmupSteps, max(1, t.steps / 10))
    let train = augment(data.puzzles, copies: try a.int("augment", default: 0, min: 0)!, seed: t.seed)
    return Setup(layout: layout, model: m, training: t, train: train, valid: valid)
  }

  static func installInterruptHandler() {
    signal(SIGINT) { _ in
      if let r = activeRun, !r.stopRequested { r.stopRequested = true } else { exit(130) }
    }
  }

  /// Trains with progress output; returns the run and wall seconds.
  static func runTraining(_ run: TrainingRun, label: String) throws -> Double {
    activeRun = run
    installInterruptHandler()
    defer { activeRun = nil }
    let tty = isatty(STDERR_FILENO) != 0
    let total = run.trainer.config.steps, startStep = run.trainer.step
    var lastPrint = -1.0, lastExact: Double? = nil
    let t0 = DispatchTime.now().uptimeNanoseconds
    let secs = try run.run(onStep: { m, _ in
      if let e = m.haltedExactAccuracy { lastExact = e }
      let wall = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
      let done = m.step - startStep
      let rate = Double(done * run.trainer.config.batchSize) / max(wall, 1e-9)
      let eta = wall / Double(max(done, 1)) * Double(total - m.step)
      let line = String(format: "%@ step %d/%d  %.0f ex/s  loss %.4f  train exact %@  ETA %@", label, m.step, total, rate, m.loss,
                        lastExact.map { pct($0) } ?? "-", formatDuration(eta))
      if tty {
        if wall - lastPrint > 0.2 || m.step == total { err("\r\u{1B}[K" + line + (m.step == total ? "" : ""), terminator: false); lastPrint = wall }
      } else if wall - lastPrint > 10 || m.step == total {
        err(line)
        lastPrint = wall
      }
    }, onRecord: { rec in
      if let v = rec.validation {
        if tty { err("") }
        err("\(label) step \(rec.step): validation exact \(pct(v.exactAccuracy)), verified \(pct(v.verifiedAccuracy)), cells \(pct(v.cellAccuracy)) on \(v.count)")
      }
    })
    if tty { err("") }
    if run.stopRequested { err("interrupted: checkpoint saved to \(run.checkpointURL.path); continue with --resume \(run.directory.path)") }
    return secs
  }

  static func err(_ s: String, terminator: Bool) {
    FileHandle.standardError.write(Data(s.utf8))
  }

  static func formatDuration(_ s: Double) -> String {
    guard s.isFinite else { return "?" }
    let t = Int(s.rounded())
    return t >= 3600 ? "\(t / 3600)h\(String(format: "%02d", t / 60 % 60))m" : (t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t)s")
  }

  // MARK: - train

  static func train(_ args: [String]) throws -> Int32 {
    let a = try Arguments(args, command: "train", flags: ["no-ema", "one-step-gradient", "augment-online", "generate-online", "no-generate-online"], options: trainOptions)
    if let dir = a.string("resume") {
      let data = try loadSet(try a.required("data"), task: try task(a))
      let valid = try a.string("valid").map { try loadSet($0, task: data.task).puzzles } ?? []
      let run = try TrainingRun.resume(directory: URL(fileURLWithPath: dir), train: data.puzzles, validation: valid,
                                       threads: try a.int("threads", min: 1), steps: try a.int("steps", min: 1))
      // Options that only steer the loop are taken from this command line, not silently dropped.
      if let c = try a.int("checkpoint-every", min: 0) { run.checkpointEvery = c }
      if let v = try a.int("validate-every", min: 0) { run.validateEvery = v }
      if let e = try a.int("eval-steps", min: 1) { run.evalSteps = e }
      try installStream(run.trainer, train: data.puzzles, heldOut: valid, layout: run.layout)
      out("resuming \(dir) at step \(run.trainer.step)/\(run.trainer.config.steps)")
      let secs = try runTraining(run, label: "train")
      out("done in \(formatDuration(secs)); model: \(run.modelURL.path)")
      return 0
    }
    let s = try setup(a)
    let model = try RecursiveModel(config: s.model, seed: s.training.seed)
    let trainer = try Trainer(model: model, config: s.training, data: try s.train.map { try s.layout.example($0) })
    try installStream(trainer, train: s.train, heldOut: s.valid, layout: s.layout)
    let run = try TrainingRun(trainer: trainer, layout: s.layout, directory: URL(fileURLWithPath: try a.required("out")), validation: s.valid,
                              evalSteps: try a.int("eval-steps", min: 1), checkpointEvery: try a.int("checkpoint-every", default: 500, min: 0)!,
                              validateEvery: try a.int("validate-every", default: 250, min: 0)!)
    out("\(s.model.kind.rawValue) on \(s.layout.summary): \(model.parameterCount) parameters, \(s.train.count) training examples, \(s.training.steps) steps × batch \(s.training.batchSize), \(s.training.threads) threads")
    let secs = try runTraining(run, label: "train")
    if let v = try run.validate() {
      out("validation: exact \(pct(v.exactAccuracy)), verified \(pct(v.verifiedAccuracy)), cells \(pct(v.cellAccuracy)), mean steps \(String(format: "%.2f", v.meanSteps))")
    }
    out("done in \(formatDuration(secs)); model: \(run.modelURL.path)")
    return 0
  }

  // MARK: - eval / solve

  static func evaluate(_ args: [String]) throws -> Int32 {
    let a = try Arguments(args, command: "eval", flags: ["halt"], options: ["checkpoint", "data", "steps", "json", "threads"])
    let r = try Reasoner(checkpoint: URL(fileURLWithPath: try a.required("checkpoint")), threads: try threads(a))
    let set = try loadSet(try a.required("data"), task: r.layout.task)
    let sc = try r.score(set.puzzles, steps: try a.int("steps", min: 1), halt: a.has("halt"))
    out(table(["examples", "exact", "verified", "cells", "mean steps", "ms/example", "GFLOP/solved", "ms/solved"],
              [["\(sc.count)", pct(sc.exactAccuracy), pct(sc.verifiedAccuracy), pct(sc.cellAccuracy), String(format: "%.2f", sc.meanSteps),
                String(format: "%.2f", sc.msPerExample), sc.flopsPerSolved.map { String(format: "%.3f", $0 / 1e9) } ?? "-",
                sc.msPerSolved.map { String(format: "%.2f", $0) } ?? "-"]]))
    if let j = a.string("json") { try writeJSON(sc, to: j) }
    return 0
  }

  static func solve(_ args: [String]) throws -> Int32 {
    let a = try Arguments(args, command: "solve", flags: ["verify", "no-halt"], options: ["checkpoint", "data", "steps", "threads"])
    let r = try Reasoner(checkpoint: URL(fileURLWithPath: try a.required("checkpoint")), threads: try threads(a))
    let set: PuzzleSet
    if let path = a.string("data") { set = try loadSet(path, task: r.layout.task) } else {
      set = try PuzzleSet.parse(stdinLines().joined(separator: "\n"), task: r.layout.task, source: "stdin")
    }
    let sols = try r.solve(set.puzzles, steps: try a.int("steps", min: 1), halt: !a.has("no-halt"))
    for (i, s) in sols.enumerated() {
      out(s.line)
      if a.has("verify") { err("\(i + 1): \(s.verdict.map { "invalid (\($0))" } ?? "valid") steps \(s.steps)\(s.confidence.map { String(format: " confidence %.3f", $0) } ?? "")") }
    }
    return 0
  }

  // MARK: - sweep

  struct SweepRow: Codable { var steps: Int; var exact: Double; var verified: Double; var cells: Double; var meanSteps: Double }

  static func sweep(_ args: [String]) throws -> Int32 {
    let a = try Arguments(args, command: "sweep", flags: ["halt"], options: ["checkpoint", "data", "steps", "latent-steps", "recursions", "baseline", "out", "threads"])
    let trained = try Reasoner(checkpoint: URL(fileURLWithPath: try a.required("checkpoint")), threads: try threads(a))
    // Several files (e.g. 15×15, 31×31, 59×59 mazes): one curve per file in the same chart.
    let paths = try a.required("data").split(separator: ",").map(String.init)
    let suites = try paths.map { path -> (PuzzleSet, Reasoner) in
      let set = try loadSet(path, task: trained.layout.task)
      let r = try trained.adapted(to: TaskLayout.infer(from: set))
      if r.layout != trained.layout { out("extrapolating: model trained on \(trained.layout.summary), evaluated on \(r.layout.summary) (\(path))") }
      return (set, r)
    }
    let steps = try a.intList("steps") ?? [1, 2, 4, 8, 16, 32]
    let ns = try a.intList("latent-steps") ?? [trained.model.config.latentSteps]
    let ts = try a.intList("recursions") ?? [trained.model.config.recursions]
    let dir = try a.required("out")
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var csv = "data,latent_steps,recursions,supervision_steps,effective_depth,exact_accuracy,verified_accuracy,cell_accuracy,mean_steps\n"
    var series: [LineChart.Series] = []
    let colors = ["#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#e377c2", "#7f7f7f"]
    for (path, (set, base)) in zip(paths, suites) {
      for n in ns {
        for t in ts {
          let r = Reasoner(model: try base.model.withRecursion(latentSteps: n, recursions: t), layout: base.layout, threads: base.threads)
          var pts: [(x: Double, y: Double)] = []
          for k in steps {
            let sc = try r.score(set.puzzles, steps: k, halt: a.has("halt"))
            // Effective depth: network blocks applied per answer = K · T · (n + 1) · blocks.
            let depth = k * t * (n + 1) * base.model.config.blocks
            csv += "\(path),\(n),\(t),\(k),\(depth),\(sc.exactAccuracy),\(sc.verifiedAccuracy),\(sc.cellAccuracy),\(sc.meanSteps)\n"
            pts.append((Double(k), sc.verifiedAccuracy))
            out("\(base.layout.summary) n=\(n) T=\(t) steps \(k) (depth \(depth)): exact \(pct(sc.exactAccuracy)) verified \(pct(sc.verifiedAccuracy)) cells \(pct(sc.cellAccuracy)) mean steps \(String(format: "%.2f", sc.meanSteps))")
          }
          var label = ns.count * ts.count == 1 ? "TRM" : "TRM n=\(n) T=\(t)"
          if paths.count > 1 { label += " \(base.layout.summary)" }
          series.append(.init(name: label, points: pts, color: colors[series.count % colors.count]))
        }
      }
    }
    var refs: [LineChart.Reference] = []
    if let b = a.string("baseline") {
      let baseline = try Reasoner(checkpoint: URL(fileURLWithPath: b), threads: trained.threads)
      for (set, r) in suites {
        let sc = try baseline.adapted(to: r.layout).score(set.puzzles, steps: 1)
        let name = "baseline\(suites.count > 1 ? " " + r.layout.summary : "") \(pct(sc.verifiedAccuracy))"
        refs.append(.init(name: name, y: sc.verifiedAccuracy, color: "#d62728"))
        out("\(name): exact \(pct(sc.exactAccuracy)) verified \(pct(sc.verifiedAccuracy))")
      }
    }
    try csv.write(toFile: dir + "/sweep.csv", atomically: true, encoding: .utf8)
    let chart = LineChart(title: "TRM trained on \(trained.layout.summary): verified accuracy vs. supervision steps",
                          xLabel: "supervision steps K (log scale; trained with N_sup = \(trained.model.config.supervisionSteps))", yLabel: "verified accuracy",
                          series: series, references: refs)
    try chart.svg().write(toFile: dir + "/sweep.svg", atomically: true, encoding: .utf8)
    out("wrote \(dir)/sweep.csv and \(dir)/sweep.svg")
    return 0
  }

  // MARK: - compare / demo

  struct CompareRow: Codable {
    var model: String
    var parameters: Int
    var trainSeconds: Double
    var exactAccuracy: Double
    var verifiedAccuracy: Double
    var cellAccuracy: Double
    var meanSteps: Double
  }

  static func compare(_ args: [String]) throws -> Int32 {
    let a = try Arguments(args, command: "compare", flags: ["no-ema", "one-step-gradient", "augment-online", "generate-online", "no-generate-online"], options: trainOptions.union(["test", "budget-steps"]))
    var rows: [CompareRow] = []
    let test = try loadSet(try a.required("test"), task: try task(a))
    let budget = try a.int("budget-steps", min: 1)
    let dir = a.string("out").map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory.appendingPathComponent("trm-compare-\(getpid())")
    for kind in [ModelKind.trm, .baseline] {
      var s = try setup(a, kind: kind)
      if let budget { s.training.steps = budget }
      let model = try RecursiveModel(config: s.model, seed: s.training.seed)
      let trainer = try Trainer(model: model, config: s.training, data: try s.train.map { try s.layout.example($0) })
      try installStream(trainer, train: s.train, heldOut: s.valid + test.puzzles, layout: s.layout)
      let run = try TrainingRun(trainer: trainer, layout: s.layout, directory: dir.appendingPathComponent(kind.rawValue), validation: s.valid)
      out("\(kind.rawValue): \(model.parameterCount) parameters, \(s.training.steps) steps × batch \(s.training.batchSize)")
      let secs = try runTraining(run, label: kind.rawValue)
      let sc = try trainer.ema.withShadowWeights(s.training.useEMA ? model.parameters : []) {
        try scoreSuite(model: model, layout: s.layout, puzzles: test.puzzles, steps: s.model.supervisionSteps, halt: false, threads: s.training.threads)
      }
      rows.append(CompareRow(model: kind.rawValue, parameters: model.parameterCount, trainSeconds: secs, exactAccuracy: sc.exactAccuracy,
                             verifiedAccuracy: sc.verifiedAccuracy, cellAccuracy: sc.cellAccuracy, meanSteps: sc.meanSteps))
    }
    let header = ["model", "parameters", "train time", "exact", "verified", "cells", "mean steps"]
    let cells = rows.map { [$0.model, "\($0.parameters)", formatDuration($0.trainSeconds), pct($0.exactAccuracy), pct($0.verifiedAccuracy), pct($0.cellAccuracy), String(format: "%.2f", $0.meanSteps)] }
    out(table(header, cells))
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let md = "| " + header.joined(separator: " | ") + " |\n|" + header.map { _ in "---" }.joined(separator: "|") + "|\n" + cells.map { "| " + $0.joined(separator: " | ") + " |" }.joined(separator: "\n") + "\n"
    try md.write(to: dir.appendingPathComponent("compare.md"), atomically: true, encoding: .utf8)
    try writeJSON(rows, to: dir.appendingPathComponent("compare.json").path)
    out("wrote \(dir.path)/compare.md and compare.json")
    return 0
  }

  /// The README's main job: TRM vs. baseline on a shipped suite, in a few minutes on 2 cores.
  static func demo(_ args: [String]) throws -> Int32 {
    let a = try Arguments(args, command: "demo", flags: [], options: ["suite", "steps", "threads", "out"])
    let suite = a.string("suite") ?? "Puzzles/sudoku4"
    guard FileManager.default.fileExists(atPath: suite + "/train.txt") else {
      throw UsageError("suite \(suite) not found (run from the repository root, or pass --suite DIR with train.txt and test.txt)")
    }
    var forwarded = ["--data", suite + "/train.txt", "--test", suite + "/test.txt", "--budget-steps", a.string("steps") ?? "600",
                     "--out", a.string("out") ?? "runs/demo", "--threads", "\(try threads(a))"]
    if FileManager.default.fileExists(atPath: suite + "/valid.txt") { forwarded += ["--valid", suite + "/valid.txt", "--validate-every", "0"] }
    return try compare(forwarded)
  }
}
