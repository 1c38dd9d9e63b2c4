import Foundation
import TRMRandom

/// An N×N sudoku (N ∈ {4, 6, 9}; boxes 2×2, 2×3, 3×3), cells row-major, 0 = blank.
///
/// Text format: `PUZZLE` or `PUZZLE,SOLUTION`, each N² characters, digits `1…N`, blanks `.` or `0`.
/// Token encoding (reference): PAD 0, blank 1, digit d → d + 1 (so 9×9 uses vocabulary 11).
public struct Sudoku: Equatable, Sendable {
  public let size: Int
  public var givens: [Int]
  public var solution: [Int]?

  public var boxRows: Int { size == 6 ? 2 : (size == 4 ? 2 : 3) }
  public var boxCols: Int { size == 6 ? 3 : (size == 4 ? 2 : 3) }
  public static let sizes = [4, 6, 9]

  public init(size: Int, givens: [Int], solution: [Int]? = nil) {
    self.size = size
    self.givens = givens
    self.solution = solution
  }

  /// Parses one line; the error string says what is wrong.
  public init(line: String) throws {
    let parts = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces() }
    guard parts.count <= 2 else {
      throw PuzzleError.reason("expected PUZZLE or PUZZLE,SOLUTION, found \(parts.count) fields")
    }
    let n2 = parts[0].count
    guard let size = Sudoku.sizes.first(where: { $0 * $0 == n2 }) else {
      throw PuzzleError.reason("puzzle has \(n2) characters; a sudoku needs 16, 36 or 81")
    }
    func cells(_ s: Substring, allowBlank: Bool) throws -> [Int] {
      try s.enumerated().map { i, ch in
        if ch == "." || ch == "0" {
          guard allowBlank else { throw PuzzleError.reason("solution has a blank at cell \(i + 1)") }
          return 0
        }
        guard let d = ch.wholeNumberValue, d >= 1, d <= size else {
          throw PuzzleError.reason("bad character '\(ch)' at cell \(i + 1) (digits 1…\(size), blanks . or 0)")
        }
        return d
      }
    }
    let g = try cells(parts[0], allowBlank: true)
    var sol: [Int]? = nil
    if parts.count == 2 {
      guard parts[1].count == n2 else {
        throw PuzzleError.reason("solution has \(parts[1].count) characters, puzzle has \(n2)")
      }
      sol = try cells(parts[1], allowBlank: false)
    }
    self.init(size: size, givens: g, solution: sol)
    if let bad = firstConflict(givens) { throw PuzzleError.reason("givens conflict: \(bad)") }
    if let sol, let reason = verify(sol) { throw PuzzleError.reason("inconsistent solution: \(reason)") }
  }

  static func text(_ cells: [Int]) -> String { String(cells.map { $0 == 0 ? "." : Character(String($0)) }) }

  /// `PUZZLE` or `PUZZLE,SOLUTION`.
  public var line: String { Sudoku.text(givens) + (solution.map { "," + Sudoku.text($0) } ?? "") }
  public var inputText: String { Sudoku.text(givens) }

  /// Units (rows, columns, boxes) as cell-index lists.
  public var units: [[Int]] {
    let n = size
    var u: [[Int]] = []
    for r in 0..<n { u.append((0..<n).map { r * n + $0 }) }
    for c in 0..<n { u.append((0..<n).map { $0 * n + c }) }
    for br in stride(from: 0, to: n, by: boxRows) {
      for bc in stride(from: 0, to: n, by: boxCols) {
        var b: [Int] = []
        for r in br..<(br + boxRows) { for c in bc..<(bc + boxCols) { b.append(r * n + c) } }
        u.append(b)
      }
    }
    return u
  }

  func firstConflict(_ cells: [Int]) -> String? {
    for (k, unit) in units.enumerated() {
      var seen = Set<Int>()
      for i in unit where cells[i] != 0 {
        if !seen.insert(cells[i]).inserted {
          let kind = k < size ? "row \(k + 1)" : (k < 2 * size ? "column \(k - size + 1)" : "box \(k - 2 * size + 1)")
          return "digit \(cells[i]) repeats in \(kind)"
        }
      }
    }
    return nil
  }

  /// Exact verifier: nil if `answer` is a full grid that keeps every given and satisfies every
  /// row, column and box constraint; otherwise the reason.
  public func verify(_ answer: [Int]) -> String? {
    guard answer.count == size * size else { return "answer has \(answer.count) cells, expected \(size * size)" }
    for (i, v) in answer.enumerated() {
      if v < 1 || v > size { return "cell \(i + 1) is not a digit 1…\(size)" }
      if givens[i] != 0 && givens[i] != v { return "cell \(i + 1) changes the given \(givens[i]) to \(v)" }
    }
    return firstConflict(answer)
  }

  // MARK: - Solver

  /// Counts solutions up to `limit` (backtracking, most-constrained cell first).
  public func countSolutions(limit: Int = 2) -> Int {
    search(limit: limit).count
  }

  /// Backtracking nodes visited to find the first solution (a difficulty rating).
  public func effort() -> Int {
    search(limit: 1).effort
  }

  /// Difficulty levels by `guesses`, the search our solver needs beyond forced moves.
  public enum Difficulty: String, CaseIterable, Sendable {
    /// At most 20 guesses (0: naked singles alone solve it).
    case easy
    /// 21–300 guesses (the median of the public kaggle "beginner" file is 115).
    case medium
    /// 301–3,000 guesses (kaggle "hard" median: 583).
    case hard
    /// More than 3,000 guesses (top1465 median: 3,504).
    case extreme

    public var guesses: ClosedRange<Int> {
      switch self {
      case .easy: return 0...20
      case .medium: return 21...300
      case .hard: return 301...3000
      case .extreme: return 3001...Int.max
      }
    }

    public init(guesses: Int) {
      self = Difficulty.allCases.first { $0.guesses.contains(guesses) } ?? .extreme
    }
  }

  /// Search nodes of the most-constrained-first backtracking solver beyond one per blank cell:
  /// 0 when naked singles alone solve the puzzle, growing with the guessing a solver needs. The
  /// difficulty grade of `generate(size:givens:difficulty:)` and `trm grade`.
  public var guesses: Int { max(0, effort() - givens.filter { $0 == 0 }.count - 1) }

  public var difficulty: Difficulty { Difficulty(guesses: guesses) }

  /// A puzzle of the given difficulty: puzzles are drawn (clues removed down to `givens`, or
  /// as far as uniqueness allows) until one grades at `difficulty`; nil after `tries` draws.
  public static func generate(
    size: Int, givens: Int, difficulty: Difficulty, tries: Int = 2000,
    rng: inout SplitMix64
  ) -> Sudoku? {
    for _ in 0..<tries {
      let s = generate(size: size, givens: givens, rng: &rng)
      if s.difficulty == difficulty { return s }
    }
    return nil
  }

  /// The first solution found (nil if none).
  public func solved() -> [Int]? {
    search(limit: 1).first
  }

  /// Most-constrained-first backtracking from the givens: counts solutions up to `limit`,
  /// counts visited nodes in `effort`, keeps the first solution in `first`, and with `rng` tries a
  /// cell's candidates in shuffled order (the generator's random complete grid). Row, column and
  /// box digits are bitmasks, so a node costs one pass over the blanks; the search order — the
  /// first blank with the fewest candidates, candidates ascending — defines `effort` (the
  /// difficulty grade) and, with the shuffle, which grid a seed generates.
  private func search(limit: Int, rng: UnsafeMutablePointer<SplitMix64>? = nil) -> MaskSearch {
    var s = MaskSearch(size: size, boxRows: boxRows, boxCols: boxCols, grid: givens)
    s.run(limit: limit, rng: rng)
    return s
  }

  // MARK: - Generator

  /// A random unique-solution puzzle: a random complete grid, then clues removed in random
  /// order while the solution stays unique, stopping at `givens` clues (or when no further clue
  /// can be removed).
  public static func generate(size: Int, givens target: Int, rng: inout SplitMix64) -> Sudoku {
    precondition(sizes.contains(size), "sudoku size must be 4, 6 or 9")
    var empty = Sudoku(size: size, givens: Array(repeating: 0, count: size * size))
    let full = withUnsafeMutablePointer(to: &rng) { empty.search(limit: 1, rng: $0).first! }
    empty.givens = full
    var puzzle = empty
    var clues = size * size
    for i in rng.permutation(size * size) where clues > target {
      let keep = puzzle.givens[i]
      puzzle.givens[i] = 0
      if puzzle.countSolutions(limit: 2) == 1 { clues -= 1 } else { puzzle.givens[i] = keep }
    }
    puzzle.solution = full
    return puzzle
  }

  /// Fewer givens than one removal pass reaches (it stops at a minimal puzzle: 9×9 at 21–28
  /// givens): up to `moves` steps of a local search from this puzzle toward `target` givens. A
  /// step puts one blank's solution digit back, then tries to remove each other given in random
  /// order, and that digit last, while the solution stays unique; it is kept when it ends with no
  /// more givens than before (so the search also walks among equally small puzzles). Every kept
  /// step ends at a minimal puzzle with the same unique solution (for a puzzle with one solution,
  /// as the generator's are). Returns `self` when it has no solution.
  public func reducingGivens(to target: Int, moves: Int, rng: inout SplitMix64) -> Sudoku {
    guard let full = solution ?? solved() else { return self }
    var current = self
    var count = givens.filter { $0 != 0 }.count
    var step = 0
    while step < moves && count > target {
      step += 1
      let blanks = current.givens.indices.filter { current.givens[$0] == 0 }
      guard !blanks.isEmpty else { break }
      let added = blanks[rng.nextInt(below: blanks.count)]
      var next = current
      next.givens[added] = full[added]
      var clues = count + 1
      for i in rng.permutation(givens.count).filter({ $0 != added }) + [added] where next.givens[i] != 0 {
        let keep = next.givens[i]
        next.givens[i] = 0
        if next.countSolutions(limit: 2) == 1 { clues -= 1 } else { next.givens[i] = keep }
      }
      if clues <= count {
        current = next
        count = clues
      }
    }
    current.solution = full
    return current
  }

  // MARK: - Augmentation

  /// A validity-preserving random transform: digit relabelling, band and stack permutations,
  /// row/column permutations within bands/stacks, and (square boxes only) transpose.
  /// A key shared by this puzzle and every variant `augmented` can produce: the smallest
  /// digit-relabelled (first appearance → 1, 2, …) givens string over all band/stack and
  /// row/column permutations and transposes. Exact for 4×4 (128 arrangements) and 6×6 (3,456);
  /// for 9×9 (3.4 million) it is the givens string itself — two random 9×9 puzzles with 17–40
  /// givens that coincide up to these symmetries are not a practical concern, and the key then
  /// still catches exact duplicates.
  public var canonicalKey: String {
    let n = size
    guard n <= 6 else { return Sudoku.text(givens) }
    func perms(_ k: Int) -> [[Int]] {
      k <= 1
        ? [[0]]
        : perms(k - 1).flatMap { p in
          (0...p.count).map { i in
            var q = p; q.insert(k - 1, at: i); return q
          }
        }
    }
    func lines(groups: Int, width: Int) -> [[Int]] {
      var out: [[Int]] = [[]]
      for _ in 0..<groups {
        out = out.flatMap { prefix in perms(width).map { prefix + $0 } }
      }
      let inner = out
      return perms(groups).flatMap { order in
        inner.map { w in order.enumerated().flatMap { slot, g in (0..<width).map { g * width + w[slot * width + $0] } }
        }
      }
    }
    let rowOrders = lines(groups: n / boxRows, width: boxRows), colOrders = lines(groups: n / boxCols, width: boxCols)
    var best: [UInt8]? = nil
    var cells = [UInt8](repeating: 0, count: n * n)
    for transpose in boxRows == boxCols ? [false, true] : [false] {
      for rows in rowOrders {
        for cols in colOrders {
          var label = [UInt8](repeating: 0, count: n + 1), next: UInt8 = 1
          for r in 0..<n {
            for c in 0..<n {
              let v = transpose ? givens[cols[c] * n + rows[r]] : givens[rows[r] * n + cols[c]]
              if v != 0 && label[v] == 0 {
                label[v] = next
                next += 1
              }
              cells[r * n + c] = v == 0 ? 0 : label[v]
            }
          }
          if best.map({ cells.lexicographicallyPrecedes($0) }) ?? true { best = cells }
        }
      }
    }
    return (best ?? []).map { $0 == 0 ? "." : String($0) }.joined()
  }

  public func augmented(rng: inout SplitMix64) -> Sudoku { applying(randomSymmetry(rng: &rng)) }

  /// One validity-preserving transform: digit relabelling (`digits[d]`, 0 stays 0), row and
  /// column orders (band/stack permutations with permutations inside them), transpose.
  public struct Symmetry: Sendable, Equatable {
    public var digits: [Int]
    public var rows: [Int]
    public var cols: [Int]
    public var transpose: Bool
  }

  /// A random symmetry (the draws `augmented` has always made, in the same order).
  public func randomSymmetry(rng: inout SplitMix64) -> Symmetry {
    let n = size
    let digits = [0] + rng.permutation(n).map { $0 + 1 }
    func perm(groups: Int, width: Int) -> [Int] {
      rng.permutation(groups).flatMap { g in rng.permutation(width).map { g * width + $0 } }
    }
    let rows = perm(groups: n / boxRows, width: boxRows)
    let cols = perm(groups: n / boxCols, width: boxCols)
    let transpose = boxRows == boxCols && rng.nextInt(below: 2) == 1
    return Symmetry(digits: digits, rows: rows, cols: cols, transpose: transpose)
  }

  /// A grid (givens or an answer) in the transformed frame.
  public func map(_ cells: [Int], by s: Symmetry) -> [Int] {
    let n = size
    var out = [Int](repeating: 0, count: n * n)
    for r in 0..<n {
      for c in 0..<n {
        let d = cells[s.rows[r] * n + s.cols[c]]
        let v = d >= 0 && d < s.digits.count ? s.digits[d] : d
        if s.transpose { out[c * n + r] = v } else { out[r * n + c] = v }
      }
    }
    return out
  }

  /// A grid of the transformed puzzle brought back to this puzzle's frame (inverse of `map`).
  public func unmap(_ cells: [Int], by s: Symmetry) -> [Int] {
    let n = size
    var inverse = [Int](repeating: 0, count: s.digits.count)
    for (d, v) in s.digits.enumerated() { inverse[v] = d }
    var out = [Int](repeating: 0, count: n * n)
    for r in 0..<n {
      for c in 0..<n {
        let v = s.transpose ? cells[c * n + r] : cells[r * n + c]
        out[s.rows[r] * n + s.cols[c]] = v >= 0 && v < inverse.count ? inverse[v] : v
      }
    }
    return out
  }

  public func applying(_ s: Symmetry) -> Sudoku {
    Sudoku(size: size, givens: map(givens, by: s), solution: solution.map { map($0, by: s) })
  }

  // MARK: - Encoding

  public var vocabularySize: Int { size + 2 }
  public var inputTokens: [Int32] { givens.map { Int32($0 == 0 ? 1 : $0 + 1) } }
  public var targetTokens: [Int32]? { solution.map { $0.map { Int32($0 + 1) } } }
  /// Digits from predicted tokens (tokens outside 2…N+1 become 0, which the verifier rejects).
  public func decode(_ tokens: [Int32]) -> [Int] { tokens.map { $0 >= 2 && Int($0) <= size + 1 ? Int($0) - 1 : 0 } }
  public func answerText(_ answer: [Int]) -> String { Sudoku.text(answer) }
  public func parseAnswer(_ s: Substring) -> [Int] { s.map { $0.wholeNumberValue ?? 0 } }
}

extension Substring {
  func trimmingSpaces() -> Substring {
    var s = self
    while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\"" { s = s.dropFirst() }
    while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\"" { s = s.dropLast() }
    return s
  }
}

/// A line-level parse error; `PuzzleFile` adds the file and line number.
public enum PuzzleError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
  case reason(String)
  case file(path: String, line: Int, reason: String)
  case io(String)

  public var description: String {
    switch self {
    case .reason(let r): return r
    case .file(let p, let l, let r): return "\(p):\(l): \(r)"
    case .io(let s): return s
    }
  }

  public var errorDescription: String? { description }
}

/// The backtracking state of `Sudoku.solve`: the grid and, per row, column and box, a bitmask of
/// the digits placed (bit d for digit d).
private struct MaskSearch {
  let n: Int
  var grid: [Int]
  var rows: [UInt16], cols: [UInt16], boxes: [UInt16]
  let boxRows: Int, boxCols: Int
  var blanks: [Int]
  var count = 0, effort = 0
  var first: [Int]?

  init(size: Int, boxRows: Int, boxCols: Int, grid: [Int]) {
    n = size
    self.grid = grid
    rows = Array(repeating: 0, count: size)
    cols = rows
    boxes = rows
    self.boxRows = boxRows
    self.boxCols = boxCols
    blanks = []
    for i in 0..<(size * size) {
      let v = grid[i]
      if v == 0 {
        blanks.append(i)
      } else if v >= 1 && v <= size {
        rows[i / size] |= 1 << v
        cols[i % size] |= 1 << v
        boxes[boxOf(i)] |= 1 << v
      }
    }
  }

  /// Box index of cell i.
  @inline(__always) func boxOf(_ i: Int) -> Int { (i / n) / boxRows * (n / boxCols) + (i % n) / boxCols }

  @inline(__always) func free(_ i: Int) -> UInt16 {
    let all = UInt16((1 << (n + 1)) - 2)
    return all & ~(rows[i / n] | cols[i % n] | boxes[boxOf(i)])
  }

  @inline(__always) mutating func place(_ i: Int, _ v: Int) {
    grid[i] = v
    rows[i / n] |= 1 << v
    cols[i % n] |= 1 << v
    boxes[boxOf(i)] |= 1 << v
  }

  @inline(__always) mutating func clear(_ i: Int, _ v: Int) {
    grid[i] = 0
    let keep = ~(UInt16(1) << v)
    rows[i / n] &= keep
    cols[i % n] &= keep
    boxes[boxOf(i)] &= keep
  }

  mutating func run(limit: Int, rng: UnsafeMutablePointer<SplitMix64>?) {
    if count >= limit { return }
    effort += 1
    var best = -1, bestMask: UInt16 = 0, bestCount = Int.max
    for i in blanks where grid[i] == 0 {
      let m = free(i)
      let c = m.nonzeroBitCount
      if c < bestCount { best = i; bestMask = m; bestCount = c }
      if c <= 1 { break }
    }
    if best < 0 {
      count += 1
      if first == nil { first = grid }
      return
    }
    if let rng {
      var digits: [Int] = []
      var m = bestMask
      while m != 0 { digits.append(m.trailingZeroBitCount); m &= m - 1 }
      rng.pointee.shuffle(&digits)
      for v in digits {
        place(best, v)
        run(limit: limit, rng: rng)
        clear(best, v)
        if count >= limit { break }
      }
    } else {
      var m = bestMask
      while m != 0 {
        let v = m.trailingZeroBitCount
        m &= m - 1
        place(best, v)
        run(limit: limit, rng: rng)
        clear(best, v)
        if count >= limit { break }
      }
    }
  }
}
