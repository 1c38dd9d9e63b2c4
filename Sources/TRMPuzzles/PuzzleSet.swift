import Foundation
import TRMRandom

/// The three task families.
public enum TaskKind: String, Sendable, CaseIterable, Codable {
  case sudoku, maze, arithmetic
}

/// One puzzle of any task.
public enum Puzzle: Equatable, Sendable {
  case sudoku(Sudoku)
  case maze(Maze)
  case arithmetic(Arithmetic)

  public var kind: TaskKind {
    switch self {
    case .sudoku: return .sudoku
    case .maze: return .maze
    case .arithmetic: return .arithmetic
    }
  }

  /// Parses a line of the given task.
  public init(line: String, task: TaskKind) throws {
    switch task {
    case .sudoku: self = .sudoku(try Sudoku(line: line))
    case .maze: self = .maze(try Maze(line: line))
    case .arithmetic: self = .arithmetic(try Arithmetic(line: line))
    }
  }

  /// The line in the task's file format (with the solution when known).
  public var line: String {
    switch self {
    case .sudoku(let s): return s.line
    case .maze(let m): return m.line
    case .arithmetic(let a): return a.line
    }
  }

  /// The puzzle part of the line (what a solver is given).
  public var inputText: String {
    switch self {
    case .sudoku(let s): return s.inputText
    case .maze(let m): return m.inputText
    case .arithmetic(let a): return a.inputText
    }
  }

  /// The maze, if this puzzle is one.
  public var maze: Maze? {
    if case .maze(let m) = self { return m }
    return nil
  }

  /// A key shared by a puzzle and the variants the training augmentation can turn it into
  /// (maze: its 8 symmetries; arithmetic: the operands in either order; sudoku:
  /// `Sudoku.canonicalKey`, exact up to augmentation for 4×4 and 6×6). Generators use it to keep
  /// training sets disjoint from held-out suites.
  public var variantKey: String {
    switch self {
    case .sudoku(let s): return "\(s.size):" + s.canonicalKey
    case .maze(let m): return (0..<8).map { m.dihedral($0).inputText }.min()!
    case .arithmetic(let a): return min(a.inputText, a.swapped.inputText)
    }
  }

  /// A random variant under the validity-preserving symmetries training augments with (sudoku:
  /// digit relabelling, band/stack and row/column permutations, transpose; maze: one of its 8
  /// symmetries; arithmetic: the operands in either order). This is the one place that decides
  /// the transforms, so `variantKey` and augmentation always agree. With `changing`, maze and
  /// arithmetic never draw the identity (offline copies that differ from the original).
  public func randomVariant(rng: inout SplitMix64, changing: Bool = false) -> Puzzle {
    switch self {
    case .sudoku(let s): return .sudoku(s.augmented(rng: &rng))
    case .maze(let m): return .maze(m.dihedral(changing ? 1 + rng.nextInt(below: 7) : rng.nextInt(below: 8)))
    case .arithmetic(let x): return .arithmetic(changing || rng.nextInt(below: 2) == 1 ? x.swapped : x)
    }
  }

  /// A transform of a puzzle that training augments with, kept so that an answer to the
  /// transformed puzzle maps back (verified test-time search, `Reasoner.solve(attempts:)`).
  public enum Symmetry: Sendable, Equatable {
    case identity
    case sudoku(Sudoku.Symmetry)
    case maze(Int)
    case swap
  }

  /// A random symmetry of this puzzle's kind (never the identity for mazes and arithmetic).
  public func randomSymmetry(rng: inout SplitMix64) -> Symmetry {
    switch self {
    case .sudoku(let s): return .sudoku(s.randomSymmetry(rng: &rng))
    case .maze: return .maze(1 + rng.nextInt(below: 7))
    case .arithmetic: return .swap
    }
  }

  public func applying(_ s: Symmetry) -> Puzzle {
    switch (self, s) {
    case (.sudoku(let p), .sudoku(let t)): return .sudoku(p.applying(t))
    case (.maze(let m), .maze(let k)): return .maze(m.dihedral(k))
    case (.arithmetic(let a), .swap): return .arithmetic(a.swapped)
    default: return self
    }
  }

  /// An answer text written for `applying(s)` in this puzzle's frame (same text format).
  public func answerBack(_ text: String, from s: Symmetry) -> String {
    switch (self, s) {
    case (.sudoku(let p), .sudoku(let t)):
      let grid = p.parseAnswer(Substring(text))
      guard grid.count == p.size * p.size else { return text }
      return p.answerText(p.unmap(grid, by: t))
    case (.maze(let m), .maze(let k)):
      let cells = text.compactMap { Maze.cell($0) }
      guard cells.count == m.cells.count else { return text }
      return m.answerText(m.undihedral(cells, k))
    default: return text  // identity; a sum or product does not depend on the operand order
    }
  }

  /// The stated solution as answer text (nil when the line had none).
  public var labelText: String? {
    switch self {
    case .sudoku(let s): return s.solution.map { s.answerText($0) }
    case .maze(let m): return m.solution.map { m.answerText($0) }
    case .arithmetic(let a): return a.answer.map { $0.description }
    }
  }

  /// The verifier's verdict on an answer text (nil = valid).
  public func verify(answerText text: String) -> String? {
    switch self {
    case .sudoku(let s): return s.verify(s.parseAnswer(Substring(text)))
    case .maze(let m):
      let cells = text.compactMap { Maze.cell($0) }
      return cells.count == m.cells.count
        ? m.verify(cells) : "answer has \(cells.count) cells, expected \(m.cells.count)"
    case .arithmetic(let a): return a.verify(LongNumber(text))
    }
  }

  public var hasSolution: Bool {
    switch self {
    case .sudoku(let s): return s.solution != nil
    case .maze(let m): return m.solution != nil
    case .arithmetic(let a): return a.answer != nil
    }
  }

  /// Verifies the puzzle's own stated solution (nil = valid). Lines without one are invalid here.
  public func verifyStatedSolution() -> String? {
    switch self {
    case .sudoku(let s): return s.solution.map { s.verify($0) } ?? "no solution given"
    case .maze(let m): return m.solution.map { m.verify($0) } ?? "no solution given"
    case .arithmetic(let a): return a.answer.map { a.verify($0) } ?? "no answer given"
    }
  }
}

/// A list of puzzles of one task, loaded from a file or generated.
public struct PuzzleSet: Sendable {
  public var task: TaskKind
  public var puzzles: [Puzzle]
  /// Lines skipped as malformed (only with `skipMalformed`), with their errors.
  public var skipped: [PuzzleError] = []
  /// Where the puzzles came from (file path, "stdin"), when parsed.
  public var source: String?
  /// The 1-based line of each puzzle in `source` (empty for generated sets).
  public var lineNumbers: [Int] = []

  /// "FILE:LINE" of puzzle `i` when known, else "puzzle i+1".
  public func location(of i: Int) -> String {
    if let source, i < lineNumbers.count { return "\(source):\(lineNumbers[i])" }
    return "puzzle \(i + 1)"
  }

  public init(task: TaskKind, puzzles: [Puzzle]) {
    self.task = task
    self.puzzles = puzzles
  }

  /// Guesses the task from a content line: an operator → arithmetic, maze characters → maze,
  /// otherwise sudoku.
  public static func inferTask(line: String) -> TaskKind? {
    if line.contains("+") || line.contains("*") { return .arithmetic }
    if line.contains("#") || line.contains("S") || line.contains("G") { return .maze }
    let first = line.split(separator: ",").first.map(String.init) ?? line
    if [16, 36, 81].contains(first.count) { return .sudoku }
    return nil
  }

  /// Parses file contents. Blank lines and lines starting with `#` are skipped, except that a
  /// maze line also starts with `#` (a wall): see `looksLikeMaze`. A CSV header
  /// `source,question,answer,rating` switches to that layout (columns 2 and 3). Lines may end in
  /// LF, CRLF or CR; a UTF-8 byte-order mark is dropped. Errors name the source and line.
  public static func parse(
    _ text: String, task: TaskKind?, source: String = "input", skipMalformed: Bool = false
  ) throws -> PuzzleSet {
    var parser = PuzzleLineParser(task: task, source: source, skipMalformed: skipMalformed)
    var puzzles: [Puzzle] = []
    var lines: [Int] = []
    // "\r\n" is one Character in Swift, so split on all three line ends.
    for raw in text.split(
      omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
    {
      if let p = try parser.next(String(raw)) {
        puzzles.append(p)
        lines.append(parser.lineNumber)
      }
    }
    guard let t = parser.task else { throw PuzzleError.io("\(source): no puzzles found") }
    var set = PuzzleSet(task: t, puzzles: puzzles)
    set.skipped = parser.skipped
    set.source = source
    set.lineNumbers = lines
    return set
  }

  /// Whether a line starting with `#` is a maze row rather than a comment: its first field uses
  /// only maze characters and marks something (S, G, an open cell or a path). Such a line is
  /// parsed — and rejected with a reason if malformed (two S, not square…) — never skipped.
  static func looksLikeMaze(_ line: String) -> Bool {
    let first = line.split(separator: ",", omittingEmptySubsequences: false)[0]
    return first.count >= 4 && first.allSatisfy { "# .SGo".contains($0) } && first.contains { "SG.o".contains($0) }
  }

  /// Loads a file (UTF-8); errors name the file and line.
  public static func load(path: String, task: TaskKind? = nil, skipMalformed: Bool = false) throws -> PuzzleSet {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw PuzzleError.io("\(path): cannot read file")
    }
    guard let text = String(data: data, encoding: .utf8) else { throw PuzzleError.io("\(path): not valid UTF-8") }
    return try parse(text, task: task, source: path, skipMalformed: skipMalformed)
  }

  /// Writes one puzzle per line with a comment header.
  public func write(path: String, header: String? = nil) throws {
    var text = header.map { $0.split(separator: "\n").map { "# " + $0 }.joined(separator: "\n") + "\n" } ?? ""
    for p in puzzles { text += p.line + "\n" }
    do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
      throw PuzzleError.io("\(path): cannot write (\(error.localizedDescription))")
    }
  }
}

/// Generator settings for each task.
public struct GeneratorOptions: Sendable {
  /// Keep only sudoku puzzles of this grade (nil: any).
  public var sudokuDifficulty: Sudoku.Difficulty? = nil
  public var sudokuSize = 4
  /// Target number of givens (clues) for sudoku.
  public var sudokuGivens = 6
  /// Sudoku: steps of `Sudoku.reducingGivens` toward `sudokuGivens` after the removal pass
  /// (0: none; the removal stops at a minimal puzzle, 9×9 at 21–28 givens).
  public var sudokuSearchMoves = 0
  public var mazeSide = 9
  public var mazeLoops = 0.15
  public var mazeMinPath = 8
  /// Open-plan mazes of this style (random walls, Maze-Hard's kind) instead of lattice mazes;
  /// `mazeSide`, `mazeLoops` and `mazeMinPath` are then not used.
  public var mazeOpenPlan: OpenPlanMazeStyle? = nil
  public var op: Arithmetic.Op = .add
  public var digits = 3
  /// Arithmetic: draw only problems reserved for evaluation (`true`: test suites), only
  /// problems outside that share (`false`: training files), or any (nil).
  public var reservedForEvaluation: Bool? = nil
  /// Addition: sums with a carry chain of exactly this many propagating positions
  /// (`Arithmetic.generateCarryChain`); nil: random operands.
  public var carryChain: Int? = nil
  public init() {}
}

extension PuzzleSet {
  /// The puzzles followed by `copies` seeded rounds of changed variants of each
  /// (`Puzzle.randomVariant(changing: true)`): offline augmentation of a training file.
  public func augmented(copies: Int, seed: UInt64) -> [Puzzle] {
    guard copies > 0 else { return puzzles }
    var rng = SplitMix64(seed: seed ^ 0xA06)
    var out = puzzles
    for _ in 0..<copies { for p in puzzles { out.append(p.randomVariant(rng: &rng, changing: true)) } }
    return out
  }

  /// `count` distinct puzzles of a task, deterministic from `seed`. Puzzles sharing a
  /// `variantKey` with any of `excluding` (e.g. a test suite) are skipped. `progress` hears the
  /// number of puzzles so far after each one is kept.
  public static func generate(
    task: TaskKind, count: Int, seed: UInt64, options: GeneratorOptions = GeneratorOptions(),
    excluding: [Puzzle] = [], progress: ((Int) -> Void)? = nil
  ) -> PuzzleSet {
    let excluded = Set(excluding.map(\.variantKey))
    var rng = SplitMix64(seed: seed)
    var seen = Set<String>()
    var out: [Puzzle] = []
    var attempts = 0
    // Reserved arithmetic problems are 1 in 16: allow enough draws to find them.
    let patience = options.reservedForEvaluation == true && task == .arithmetic ? 50 * Arithmetic.evaluationShare : 50
    while out.count < count && attempts < count * patience {
      attempts += 1
      let p: Puzzle
      switch task {
      case .sudoku:
        // One draw, or with a grade up to 50 draws until one has it.
        var drawn: Sudoku? = nil
        for _ in 0..<(options.sudokuDifficulty == nil ? 1 : 50) {
          var s = Sudoku.generate(size: options.sudokuSize, givens: options.sudokuGivens, rng: &rng)
          if options.sudokuSearchMoves > 0 {
            s = s.reducingGivens(to: options.sudokuGivens, moves: options.sudokuSearchMoves, rng: &rng)
          }
          if options.sudokuDifficulty.map({ s.difficulty == $0 }) ?? true {
            drawn = s
            break
          }
        }
        guard let s = drawn else { continue }
        p = .sudoku(s)
      case .maze:
        if let style = options.mazeOpenPlan {
          p = .maze(Maze.generateOpenPlan(style, rng: &rng))
        } else {
          p = .maze(
            Maze.generate(
              side: options.mazeSide, loops: options.mazeLoops, minPathLength: options.mazeMinPath, rng: &rng))
        }
      case .arithmetic:
        let x =
          options.carryChain.map { Arithmetic.generateCarryChain(digits: options.digits, chain: $0, rng: &rng) }
          ?? Arithmetic.generate(op: options.op, digits: options.digits, rng: &rng)
        if let r = options.reservedForEvaluation, x.isReservedForEvaluation != r { continue }
        p = .arithmetic(x)
      }
      if !excluded.isEmpty && excluded.contains(p.variantKey) { continue }
      if seen.insert(p.inputText).inserted {
        out.append(p)
        progress?(out.count)
      }
    }
    return PuzzleSet(task: task, puzzles: out)
  }
}

/// Reads puzzle lines one at a time, for files too large to hold (`trm solve` on a stream): the
/// same rules and errors as `PuzzleSet.parse`, which is built on it.
public struct PuzzleLineParser: Sendable {
  /// The task: given, or inferred from the first puzzle line.
  public private(set) var task: TaskKind?
  public let source: String
  public let skipMalformed: Bool
  /// 1-based number of the last line read.
  public private(set) var lineNumber = 0
  /// Malformed lines skipped (only with `skipMalformed`), with their errors.
  public private(set) var skipped: [PuzzleError] = []
  var csv = false

  public init(task: TaskKind?, source: String, skipMalformed: Bool = false) {
    self.task = task
    self.source = source
    self.skipMalformed = skipMalformed
  }

  /// The puzzle on the next line, nil for a blank, comment or header line (or a skipped
  /// malformed one); throws `PuzzleError.file` naming the source and line otherwise.
  public mutating func next(_ raw: String) throws -> Puzzle? {
    lineNumber += 1
    var line = raw
    if line.hasSuffix("\r") { line.removeLast() }
    if lineNumber == 1, line.hasPrefix("\u{FEFF}") { line.removeFirst() }
    if line.trimmingCharacters(in: .whitespaces).isEmpty { return nil }
    if line.hasPrefix("#") && !(task == nil || task == .maze ? PuzzleSet.looksLikeMaze(line) : false) { return nil }
    if line.lowercased().hasPrefix("source,question,answer") {
      csv = true
      return nil
    }
    if csv {
      let f = line.split(separator: ",", omittingEmptySubsequences: false)
      guard f.count >= 3 else {
        return try fail("CSV row has \(f.count) fields, expected source,question,answer,rating")
      }
      line = f[1] + "," + f[2]
    }
    if task == nil {
      guard let t = PuzzleSet.inferTask(line: line) else {
        throw PuzzleError.file(
          path: source, line: lineNumber,
          reason: "cannot tell the task from this line; pass --task sudoku|maze|arithmetic")
      }
      task = t
    }
    guard let task else { return nil }
    do { return try Puzzle(line: line, task: task) } catch let e as PuzzleError { return try fail(e.description) }
  }

  mutating func fail(_ reason: String) throws -> Puzzle? {
    let e = PuzzleError.file(path: source, line: lineNumber, reason: reason)
    if skipMalformed {
      skipped.append(e)
      return nil
    }
    throw e
  }
}
