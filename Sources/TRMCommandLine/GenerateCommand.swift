import Foundation
import TinyRecursion

extension CommandLineTool {
  /// `trm generate`: writes a puzzle file (optionally disjoint from held-out files).
  static func generate(_ args: [String]) throws -> Int32 {
    let a = try Arguments(
      args, command: "generate", flags: [],
      options: [
        "count", "seed", "out", "size", "givens", "search-moves", "side", "loops", "min-path", "op", "digits",
        "exclude", "difficulty", "split", "carry-chain", "like", "walls",
      ])
    guard let t = a.positional.first, let kind = TaskKind(rawValue: t) else {
      throw UsageError("generate needs a task: sudoku, maze or arithmetic")
    }
    let count = try a.int("count", min: 1, max: 10_000_000) ?? { throw UsageError("generate needs --count N") }()
    let seed = UInt64(try a.int("seed", default: 0, min: 0))
    let path = try a.required("out")
    var o = GeneratorOptions()
    o.sudokuSize = try a.int("size", default: 4)
    guard Sudoku.sizes.contains(o.sudokuSize) else { throw UsageError("--size must be 4, 6 or 9") }
    o.sudokuGivens = try a.int("givens", default: [4: 6, 6: 14, 9: 30][o.sudokuSize] ?? 6, min: 0, max: 81)
    if let moves = try a.int("search-moves", min: 0, max: 1_000_000) {
      guard kind == .sudoku else { throw UsageError("--search-moves is for sudoku") }
      o.sudokuSearchMoves = moves
    }
    if let like = a.string("like") {
      guard kind == .maze, a.string("loops") == nil, a.string("walls") == nil else {
        throw UsageError("--like is for mazes, without --loops or --walls (the file sets the style)")
      }
      let mazes = try loadSet(like, task: .maze).puzzles.compactMap(\.maze)
      guard var style = OpenPlanMazeStyle.infer(from: mazes) else {
        throw UsageError(
          "\(like) holds lattice mazes (odd side, wall border): generate those with --side, --loops and --min-path")
      }
      // Another side keeps the wall shares and scales the path length with the side.
      if let side = try a.int("side", min: 5, max: 255) {
        style.minPathLength = max(1, style.minPathLength * side / style.side)
        style.side = side
      }
      if let k = try a.int("min-path", min: 1, max: 65_025) { style.minPathLength = k }
      o.mazeOpenPlan = style
    } else if let walls = a.string("walls") {
      guard kind == .maze, a.string("loops") == nil else {
        throw UsageError("--walls is for mazes, without --loops (open-plan mazes have no lattice walls to remove)")
      }
      let bounds = walls.split(separator: "-", omittingEmptySubsequences: false).map { Double($0) }
      guard (1...2).contains(bounds.count), let lo = bounds.first ?? nil, let hi = bounds.last ?? nil,
        0 <= lo, lo <= hi, hi < 1
      else { throw UsageError("--walls must be a share P or a range LO-HI in [0, 1), got '\(walls)'") }
      let side = try a.int("side", default: 30, min: 5, max: 255)
      o.mazeOpenPlan = OpenPlanMazeStyle(
        side: side, wallDensity: lo...hi, minPathLength: try a.int("min-path", default: side, min: 1, max: 65_025))
    } else {
      o.mazeSide = try a.int("side", default: 9, min: 5, max: 255)
      guard o.mazeSide >= 5 && o.mazeSide % 2 == 1 else {
        throw UsageError("--side must be odd and ≥ 5, got \(o.mazeSide)")
      }
      o.mazeLoops = try a.double("loops", default: 0.15, min: 0, max: 1)
      guard (0...1).contains(o.mazeLoops) else { throw UsageError("--loops must be in [0, 1]") }
      o.mazeMinPath = try a.int("min-path", default: o.mazeSide, min: 1, max: 65_025)
    }
    let op = a.string("op") ?? "+"
    guard let parsedOp = Arithmetic.Op(rawValue: Character(op.count == 1 ? op : "?")) else {
      throw UsageError("--op must be + or *")
    }
    o.op = parsedOp
    o.digits = try a.int("digits", default: 3, min: 1, max: Arithmetic.maxDigits)
    if let split = a.string("split") {
      guard kind == .arithmetic, ["train", "eval"].contains(split) else {
        throw UsageError("--split is for arithmetic: train or eval, got '\(split)'")
      }
      o.reservedForEvaluation = split == "eval"
    }
    if let chain = try a.int("carry-chain", min: 1, max: Arithmetic.maxDigits - 1) {
      guard kind == .arithmetic, o.op == .add, chain < o.digits else {
        throw UsageError("--carry-chain is for addition (--op +) and must be below --digits, got \(chain)")
      }
      o.carryChain = chain
    }
    var excluded: [Puzzle] = []
    for file in (a.string("exclude") ?? "").split(separator: ",") where !file.isEmpty {
      excluded += try loadSet(String(file), task: kind).puzzles
    }
    if let d = a.string("difficulty") {
      guard kind == .sudoku, let level = Sudoku.Difficulty(rawValue: d) else {
        throw UsageError("--difficulty is for sudoku: easy, medium, hard or extreme, got '\(d)'")
      }
      o.sudokuDifficulty = level
    }
    // Slow generation (hard grades, --search-moves) reports progress with an ETA after 2 s.
    let progress = ProgressLine()
    let set = PuzzleSet.generate(task: kind, count: count, seed: seed, options: o, excluding: excluded) { done in
      let wall = progress.elapsed
      guard wall > 2 else { return }
      progress.show(
        "generate: \(done)/\(count) puzzles  ETA \(formatDuration(wall / Double(done) * Double(count - done)))",
        force: done == count)
    }
    progress.end()
    let cmdline = (["trm", "generate"] + args).joined(separator: " ")
    try set.write(path: path, header: "generated by: \(cmdline)\n\(set.puzzles.count) puzzles")
    out(
      "wrote \(set.puzzles.count) \(kind.rawValue) puzzles to "
        + "\(path)\(set.puzzles.count < count ? " (only \(set.puzzles.count) distinct ones exist)" : "")"
    )
    if kind == .sudoku {
      let sudoku = set.puzzles.compactMap { if case .sudoku(let s) = $0 { s } else { nil } }
      out(sudokuGivensReport(sudoku, asked: o.sudokuGivens, searchMoves: o.sudokuSearchMoves))
    }
    return 0
  }

  /// How many givens the generated sudoku have, and — when that is more than asked — why: clues
  /// are removed only while the solution stays unique, so a puzzle keeps more than `asked` once it
  /// is minimal (9×9: 21–28 givens, most 23–25), and `searchMoves` steps of the local search
  /// after it (`Sudoku.reducingGivens`) got no further.
  static func sudokuGivensReport(_ puzzles: [Sudoku], asked: Int, searchMoves: Int) -> String {
    let counts = puzzles.map { $0.givens.filter { $0 != 0 }.count }
    guard let lo = counts.min(), let hi = counts.max() else { return "no puzzles" }
    let mean = Double(counts.reduce(0, +)) / Double(counts.count)
    let above = counts.filter { $0 > asked }.count
    var line = "givens: \(lo == hi ? "\(lo)" : "\(lo)–\(hi)") (mean \(String(format: "%.1f", mean)))"
    if above > 0 {
      line +=
        "; \(above) of \(counts.count) kept more than the \(asked) asked for: clues are removed only while the "
        + "solution stays unique, and those puzzles became minimal first (no given can go)"
        + (searchMoves > 0 ? " and stayed above it after \(searchMoves) search moves" : "; --search-moves N goes lower")
    }
    return line
  }
}
