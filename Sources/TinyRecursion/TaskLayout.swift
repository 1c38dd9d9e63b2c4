import Foundation
import TRMModel
import TRMRandom
import TRMTraining

/// The fixed token layout of a puzzle suite: which task, at which size, so that every puzzle
/// maps to the same sequence length and vocabulary. Stored in checkpoints (metadata `task`, as
/// JSON with the fields `task`, `sudokuSize`, `mazeSide`, `op`, `digits`, `openCellTargets`,
/// `grid`).
public enum TaskLayout: Hashable, Sendable {
  /// N×N sudoku, N ∈ {4, 6, 9}.
  case sudoku(size: Int)
  /// side×side maze. `openCellTargets`: supervise and score only the open cells (walls, S and G
  /// are given), so copying the input no longer reads as ~90% cell accuracy.
  case maze(side: Int, openCellTargets: Bool)
  /// `A op B = C` with operands of up to `digits` digits, as one flat sequence (fixed length;
  /// the attention preset `arithmetic`).
  case arithmetic(op: Arithmetic.Op, digits: Int)
  /// `A op B = C` on a grid aligned by digit significance, with scratchpad rows for
  /// multiplication (`Arithmetic.Grid`): with a grid convolution, one checkpoint reads problems
  /// of any length (`resized(like:)`).
  case arithmeticGrid(op: Arithmetic.Op, digits: Int)

  public var task: TaskKind {
    switch self {
    case .sudoku: return .sudoku
    case .maze: return .maze
    case .arithmetic, .arithmeticGrid: return .arithmetic
    }
  }

  /// The operator of an arithmetic layout (nil for other tasks).
  public var op: Arithmetic.Op? {
    switch self {
    case .arithmetic(let op, _), .arithmeticGrid(let op, _): return op
    default: return nil
    }
  }

  /// Whether only open maze cells are supervised and scored (always false for other tasks).
  public var openCellTargets: Bool {
    if case .maze(_, let open) = self { return open }
    return false
  }

  /// The same layout with open-cell targets switched on or off (mazes only; others unchanged).
  public func withOpenCellTargets(_ on: Bool) -> TaskLayout {
    if case .maze(let side, _) = self { return .maze(side: side, openCellTargets: on) }
    return self
  }

  /// Tokens per example.
  public var sequenceLength: Int {
    switch self {
    case .sudoku(let n): return n * n
    case .maze(let side, _): return side * side
    case .arithmetic(let op, let digits): return Arithmetic.sequenceLength(op: op, digits: digits)
    case .arithmeticGrid(let op, let digits): return Arithmetic.Grid.cells(op: op, digits: digits)
    }
  }

  /// Columns of the puzzle's cell grid (sudoku, maze), for 2-D position encodings and grid
  /// convolutions; nil for flat arithmetic, whose cells are not one grid.
  public var gridColumns: Int? {
    switch self {
    case .sudoku(let n): return n
    case .maze(let side, _): return side
    case .arithmeticGrid(let op, let digits): return Arithmetic.Grid.columns(op: op, digits: digits)
    case .arithmetic: return nil
    }
  }

  /// Vocabulary size, PAD included.
  public var vocabularySize: Int {
    switch self {
    case .sudoku(let n): return n + 2
    case .maze: return Maze.vocabularySize
    case .arithmetic: return Arithmetic.vocabularySize
    case .arithmeticGrid: return Arithmetic.Grid.vocabularySize
    }
  }

  /// The layout that fits every puzzle of a set (arithmetic: the longest operand).
  public static func infer(from set: PuzzleSet) throws -> TaskLayout {
    guard let first = set.puzzles.first else { throw TaskError.invalid("the puzzle set is empty") }
    let layout: TaskLayout
    switch first {
    case .sudoku(let s): layout = .sudoku(size: s.size)
    case .maze(let m): layout = .maze(side: m.side, openCellTargets: false)
    case .arithmetic(let a):
      var d = 1
      for case .arithmetic(let x) in set.puzzles { d = max(d, x.operandDigits) }
      layout = .arithmetic(op: a.op, digits: d)
    }
    for (i, p) in set.puzzles.enumerated() where !layout.fits(p) {
      throw TaskError.invalid(
        "\(set.location(of: i)): \(Self.describe(p)) does not match the suite's layout "
          + "\(layout.summary) (set by its first puzzle; one size per training file)")
    }
    return layout
  }

  static func describe(_ p: Puzzle) -> String {
    switch p {
    case .sudoku(let s): return "a \(s.size)×\(s.size) sudoku"
    case .maze(let m): return "a \(m.side)×\(m.side) maze"
    case .arithmetic(let a): return "\(a.inputText.prefix(40))"
    }
  }

  /// Whether a puzzle can be encoded in this layout.
  public func fits(_ p: Puzzle) -> Bool {
    switch (self, p) {
    case (.sudoku(let n), .sudoku(let s)): return s.size == n
    case (.maze(let side, _), .maze(let m)): return m.side == side
    case (.arithmetic(let op, let digits), .arithmetic(let a)),
      (.arithmeticGrid(let op, let digits), .arithmetic(let a)):
      return a.op == op && a.operandDigits <= digits
    default: return false
    }
  }

  /// The same task at the size of `other` (a maze model applied to bigger mazes, an arithmetic
  /// grid to longer numbers), keeping this layout's training choices (`openCellTargets`, grid).
  public func resized(like other: TaskLayout) -> TaskLayout {
    if case .arithmeticGrid = self, case .arithmetic(let op, let digits) = other {
      return .arithmeticGrid(op: op, digits: digits)
    }
    return other.withOpenCellTargets(openCellTargets)
  }

  /// A short human description ("sudoku 9×9", "maze 15×15", "arithmetic 8-digit +").
  public var summary: String {
    switch self {
    case .sudoku(let n): return "sudoku \(n)×\(n)"
    case .maze(let side, _): return "maze \(side)×\(side)"
    case .arithmetic(let op, let digits): return "arithmetic \(digits)-digit \(op.rawValue)"
    case .arithmeticGrid(let op, let digits): return "arithmetic grid \(digits)-digit \(op.rawValue)"
    }
  }

  /// Input tokens of a puzzle.
  public func inputTokens(_ p: Puzzle) throws -> [Int32] {
    guard fits(p) else {
      throw TaskError.invalid("\(p.inputText.prefix(40)) does not fit the model's layout (\(summary))")
    }
    switch (self, p) {
    case (_, .sudoku(let s)): return s.inputTokens
    case (_, .maze(let m)): return m.inputTokens
    case (.arithmetic(_, let digits), .arithmetic(let a)):
      guard let tokens = a.inputTokens(digits: digits) else { break }
      return tokens
    case (.arithmeticGrid(_, let digits), .arithmetic(let a)):
      guard let tokens = a.gridInputTokens(digits: digits) else { break }
      return tokens
    default: break
    }
    throw TaskError.invalid("\(p.inputText.prefix(40)) does not fit the model's layout (\(summary))")
  }

  /// A training/evaluation example; the puzzle must carry its solution.
  public func example(_ p: Puzzle) throws -> Example {
    let inputs = try inputTokens(p)
    let targets: [Int32]?
    var scored: Range<Int>? = nil
    switch (self, p) {
    case (.maze(_, let open), .maze(let m)): targets = open ? m.openCellTargets(ignore: Example.ignore) : m.targetTokens
    case (.arithmetic(_, let digits), .arithmetic(let a)): targets = a.targetTokens(digits: digits)
    case (.arithmeticGrid(let op, let digits), .arithmetic(let a)):
      targets = a.gridTargetTokens(digits: digits)
      scored = Arithmetic.Grid.answerCells(op: op, digits: digits)
    case (_, .sudoku(let s)): targets = s.targetTokens
    default: targets = nil  // unreachable: `inputTokens` checked that the puzzle fits
    }
    guard let targets else {
      throw TaskError.invalid("\(p.inputText.prefix(40)) has no solution to train or score against")
    }
    return Example(inputs: inputs, targets: targets, scored: scored)
  }

  /// The answer text written by predicted tokens, and the verifier's verdict (nil = valid).
  public func answer(for p: Puzzle, tokens: [Int32]) -> (text: String, verdict: String?) {
    switch p {
    case .sudoku(let s):
      let a = s.decode(tokens)
      return (s.answerText(a), s.verify(a))
    case .maze(let m):
      let a = m.decode(tokens)
      return (m.answerText(a), m.verify(a))
    case .arithmetic(let x):
      let text: String?
      switch self {
      case .arithmetic(_, let digits): text = Arithmetic.decodeText(tokens, digits: digits, op: x.op)
      case .arithmeticGrid(_, let digits): text = Arithmetic.gridDecodeText(tokens, digits: digits, op: x.op)
      default: return ("?", "not an arithmetic layout")
      }
      guard let text else { return ("?", x.verify(nil)) }
      return (text, x.verify(LongNumber(text)))
    }
  }

  /// The full output line `INPUT,ANSWER` (arithmetic: `A+B=C`).
  public func outputLine(for p: Puzzle, answer: String) -> String {
    if case .arithmetic = p { return p.inputText + "=" + answer }
    return p.inputText + "," + answer
  }
}

// MARK: - Checkpoint JSON

extension TaskLayout: Codable {
  enum CodingKeys: String, CodingKey { case task, sudokuSize, mazeSide, op, digits, openCellTargets, grid }

  /// Decodes and bounds-checks a layout (a checkpoint is untrusted input: an unknown operator or
  /// an absurd size is an error, not a silent default).
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    func need(_ k: CodingKeys, _ range: ClosedRange<Int>) throws -> Int {
      let v = try c.decode(Int.self, forKey: k)
      guard range.contains(v) else {
        throw DecodingError.dataCorruptedError(
          forKey: k, in: c, debugDescription: "\(k.rawValue) \(v) is outside \(range)")
      }
      return v
    }
    switch try c.decode(TaskKind.self, forKey: .task) {
    case .sudoku:
      let n = try need(.sudokuSize, 1...9)
      guard Sudoku.sizes.contains(n) else {
        throw DecodingError.dataCorruptedError(forKey: .sudokuSize, in: c, debugDescription: "no \(n)×\(n) sudoku")
      }
      self = .sudoku(size: n)
    case .maze:
      self = .maze(
        side: try need(.mazeSide, 2...1024),
        openCellTargets: try c.decodeIfPresent(Bool.self, forKey: .openCellTargets) ?? false)
    case .arithmetic:
      let text = try c.decode(String.self, forKey: .op)
      guard text.count == 1, let op = Arithmetic.Op(rawValue: Character(text)) else {
        throw DecodingError.dataCorruptedError(
          forKey: .op, in: c, debugDescription: "unknown operator '\(text)' (+ or *)")
      }
      if try c.decodeIfPresent(Bool.self, forKey: .grid) == true {
        self = .arithmeticGrid(op: op, digits: try need(.digits, 1...Arithmetic.maxDigits))
      } else {
        self = .arithmetic(op: op, digits: try need(.digits, 1...Arithmetic.maxDigits))
      }
    }
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(task, forKey: .task)
    switch self {
    case .sudoku(let n): try c.encode(n, forKey: .sudokuSize)
    case .maze(let side, let open):
      try c.encode(side, forKey: .mazeSide)
      if open { try c.encode(true, forKey: .openCellTargets) }
    case .arithmetic(let op, let digits):
      try c.encode(String(op.rawValue), forKey: .op)
      try c.encode(digits, forKey: .digits)
    case .arithmeticGrid(let op, let digits):
      try c.encode(String(op.rawValue), forKey: .op)
      try c.encode(digits, forKey: .digits)
      try c.encode(true, forKey: .grid)
    }
  }
}

/// Errors from the task layer (suites, layouts, arguments).
public enum TaskError: Error, CustomStringConvertible, LocalizedError, Sendable {
  case invalid(String)
  public var description: String {
    switch self {
    case .invalid(let s): return s
    }
  }
  public var errorDescription: String? { description }
}
