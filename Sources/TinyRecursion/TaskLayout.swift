@_exported import TRMKernels
@_exported import TRMModel
@_exported import TRMPuzzles
@_exported import TRMRandom
@_exported import TRMTensor
@_exported import TRMTraining

/// The fixed token layout of a puzzle suite: which task, at which size, so that every puzzle
/// maps to the same sequence length and vocabulary. Stored in checkpoints (metadata `task`).
public struct TaskLayout: Codable, Hashable, Sendable {
  public var task: TaskKind
  public var sudokuSize: Int?
  public var mazeSide: Int?
  public var op: String?
  public var digits: Int?
  /// Mazes: supervise and score only the open cells (walls, S and G are given), so copying the
  /// input no longer reads as ~90% cell accuracy. nil/false: every cell (earlier checkpoints).
  public var openCellTargets: Bool?

  /// Tokens per example.
  public var sequenceLength: Int {
    switch task {
    case .sudoku: return sudokuSize! * sudokuSize!
    case .maze: return mazeSide! * mazeSide!
    case .arithmetic: return Arithmetic.sequenceLength(op: arithmeticOp, digits: digits!)
    }
  }

  /// Columns of the puzzle's cell grid (sudoku, maze), for 2-D position encodings; nil for
  /// arithmetic, whose cells are not one grid.
  public var gridColumns: Int? {
    switch task {
    case .sudoku: return sudokuSize
    case .maze: return mazeSide
    case .arithmetic: return nil
    }
  }

  /// Vocabulary size, PAD included.
  public var vocabularySize: Int {
    switch task {
    case .sudoku: return sudokuSize! + 2
    case .maze: return Maze.vocabularySize
    case .arithmetic: return Arithmetic.vocabularySize
    }
  }

  var arithmeticOp: Arithmetic.Op { op == "*" ? .multiply : .add }

  /// The layout that fits every puzzle of a set (arithmetic: the longest operand).
  public static func infer(from set: PuzzleSet) throws -> TaskLayout {
    guard let first = set.puzzles.first else { throw TaskError.invalid("the puzzle set is empty") }
    var layout = TaskLayout(task: set.task)
    switch first {
    case .sudoku(let s): layout.sudokuSize = s.size
    case .maze(let m): layout.mazeSide = m.side
    case .arithmetic(let a):
      layout.op = String(a.op.rawValue)
      var d = 1
      for case .arithmetic(let x) in set.puzzles { d = max(d, String(x.a).count, String(x.b).count) }
      layout.digits = d
    }
    for (i, p) in set.puzzles.enumerated() where !layout.fits(p) {
      throw TaskError.invalid("\(set.location(of: i)): \(Self.describe(p)) does not match the suite's layout "
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
    switch p {
    case .sudoku(let s): return task == .sudoku && s.size == sudokuSize
    case .maze(let m): return task == .maze && m.side == mazeSide
    case .arithmetic(let a): return task == .arithmetic && String(a.op.rawValue) == op && a.inputTokens(digits: digits!) != nil
    }
  }

  /// The same task at the size of `other` (a maze model applied to bigger mazes), keeping this
  /// layout's training choices (`openCellTargets`).
  public func resized(like other: TaskLayout) -> TaskLayout {
    var l = other
    l.openCellTargets = openCellTargets
    return l
  }

  /// A short human description ("sudoku 9×9", "maze 15×15", "arithmetic 8-digit +").
  public var summary: String {
    switch task {
    case .sudoku: return "sudoku \(sudokuSize!)×\(sudokuSize!)"
    case .maze: return "maze \(mazeSide!)×\(mazeSide!)"
    case .arithmetic: return "arithmetic \(digits!)-digit \(op!)"
    }
  }

  /// Input tokens of a puzzle.
  public func inputTokens(_ p: Puzzle) throws -> [Int32] {
    guard fits(p) else { throw TaskError.invalid("\(p.inputText.prefix(40)) does not fit the model's layout (\(summary))") }
    switch p {
    case .sudoku(let s): return s.inputTokens
    case .maze(let m): return m.inputTokens
    case .arithmetic(let a): return a.inputTokens(digits: digits!)!
    }
  }

  /// A training/evaluation example; the puzzle must carry its solution.
  public func example(_ p: Puzzle) throws -> Example {
    let inputs = try inputTokens(p)
    let targets: [Int32]?
    switch p {
    case .sudoku(let s): targets = s.targetTokens
    case .maze(let m): targets = openCellTargets == true ? m.openCellTargets(ignore: Example.ignore) : m.targetTokens
    case .arithmetic(let a): targets = a.targetTokens(digits: digits!)
    }
    guard let targets else { throw TaskError.invalid("\(p.inputText.prefix(40)) has no solution to train or score against") }
    return Example(inputs: inputs, targets: targets)
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
      let v = Arithmetic.decode(tokens, digits: digits!, op: x.op)
      return (v.map(String.init) ?? "?", x.verify(v))
    }
  }

  /// The full output line `INPUT,ANSWER` (arithmetic: `A+B=C`).
  public func outputLine(for p: Puzzle, answer: String) -> String {
    if case .arithmetic = p { return p.inputText + "=" + answer }
    return p.inputText + "," + answer
  }
}

/// Errors from the task layer (suites, layouts, arguments).
public enum TaskError: Error, CustomStringConvertible {
  case invalid(String)
  public var description: String {
    switch self { case .invalid(let s): return s }
  }
}
