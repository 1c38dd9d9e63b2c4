import TRMRandom

/// Multi-digit addition or multiplication of non-negative integers of any length up to
/// `Arithmetic.maxDigits` digits per operand.
///
/// Text format: `A+B` or `A+B=C`, `A*B` or `A*B=C` (decimal; leading zeros are accepted on input
/// and never written). Answers are checked exactly (`LongNumber`).
///
/// Two token layouts: the grid (`Arithmetic.Grid`: digits aligned by significance in the rows
/// of a 2-D grid whose width follows the problem, with scratchpad rows for multiplication — what
/// the `addition` and `multiplication` presets train on) and the flat sequence below (the
/// `arithmetic` preset's attention layout, fixed length). Flat layout, width W = the answer
/// width for the suite's digit count `d` (d + 1 for `+`, 2d for `*`), least-significant digit
/// first so that carries move one position to the right of the digit that causes them:
/// ```
/// position:  0      1 … W        W+1 … 2W      2W+1 … 3W
/// input:     op     A (LSB first) B (LSB first) blank × W
/// target:    –      –             –             C (LSB first, zero-padded)
/// ```
/// Vocabulary: PAD 0, blank 1, digits 0…9 → 2…11, `+` 12, `*` 13. Unsupervised positions have
/// the ignore label.
public struct Arithmetic: Equatable, Sendable {
  public enum Op: Character, Sendable { case add = "+", multiply = "*" }
  public var a: LongNumber, b: LongNumber
  public var op: Op
  /// The stated answer, if the line had one.
  public var answer: LongNumber?

  /// The longest operand a line may have (digits, leading zeros not counted). A longer one is a
  /// parse error naming the file, line and this limit.
  public static let maxDigits = 100

  public init(a: LongNumber, b: LongNumber, op: Op, answer: LongNumber? = nil) {
    self.a = a
    self.b = b
    self.op = op
    self.answer = answer
  }

  /// a + b or a · b, exactly.
  public var result: LongNumber { op == .add ? a + b : a * b }

  public init(line: String) throws {
    let s = Substring(line).trimmingSpaces()
    guard let opIndex = s.firstIndex(where: { $0 == "+" || $0 == "*" }) else {
      throw PuzzleError.reason("expected A+B or A*B (optionally =C), found no operator")
    }
    let op = Op(rawValue: s[opIndex])!
    let lhs = s[..<opIndex]
    let rest = s[s.index(after: opIndex)...]
    let sides = rest.split(separator: "=", omittingEmptySubsequences: false)
    guard sides.count <= 2 else { throw PuzzleError.reason("more than one '='") }
    func number(_ t: Substring, _ what: String, limit: Int) throws -> LongNumber {
      guard let v = LongNumber(t) else {
        throw PuzzleError.reason("\(what) '\(t.prefix(40))' is not a non-negative decimal integer")
      }
      guard v.count <= limit else {
        throw PuzzleError.reason("\(what) has \(v.count) digits, more than the limit of \(limit)")
      }
      return v
    }
    let a = try number(lhs, "left operand", limit: Self.maxDigits)
    let b = try number(sides[0], "right operand", limit: Self.maxDigits)
    let c = sides.count == 2 ? try number(sides[1], "answer", limit: 2 * Self.maxDigits + 1) : nil
    self.init(a: a, b: b, op: op, answer: c)
    if let c, c != result {
      throw PuzzleError.reason("inconsistent answer: \(inputText) is \(result), not \(c)")
    }
  }

  public var inputText: String { "\(a)\(op.rawValue)\(b)" }
  public var line: String { inputText + (answer.map { "=\($0)" } ?? "") }
  /// Digits of the longer operand.
  public var operandDigits: Int { max(a.count, b.count) }

  /// Exact check of a claimed answer.
  public func verify(_ claimed: LongNumber?) -> String? {
    guard let claimed else { return "answer is not a number" }
    let r = result
    return claimed == r ? nil : "\(inputText) is \(r), not \(claimed)"
  }

  /// Random problem with operands of exactly `digits` digits (leading digit non-zero).
  public static func generate(op: Op, digits: Int, rng: inout SplitMix64) -> Arithmetic {
    generate(op: op, lengths: (digits, digits), rng: &rng)
  }

  /// Random problem with operands of exactly the given lengths (leading digits non-zero).
  public static func generate(op: Op, lengths: (Int, Int), rng: inout SplitMix64) -> Arithmetic {
    precondition(
      (1...maxDigits).contains(lengths.0) && (1...maxDigits).contains(lengths.1), "digits must be 1…\(maxDigits)")
    let a = LongNumber.random(length: lengths.0, rng: &rng), b = LongNumber.random(length: lengths.1, rng: &rng)
    let x = Arithmetic(a: a, b: b, op: op)
    return Arithmetic(a: a, b: b, op: op, answer: x.result)
  }

  /// A `digits`-digit sum with a long carry chain: a carry is generated at a random position and
  /// then travels through `chain` positions whose digits sum to 9, so one digit of the answer
  /// depends on digits `chain` + 1 positions away. Random sums almost never have chains this
  /// long (each position propagates with probability 1/10): these test carry propagation over a
  /// distance, not digit-wise addition.
  public static func generateCarryChain(digits: Int, chain: Int, rng: inout SplitMix64) -> Arithmetic {
    precondition(digits >= 2 && digits <= maxDigits && chain >= 1 && chain < digits, "carry chain 1…digits−1")
    var a = (0..<digits).map { _ in UInt8(rng.nextInt(below: 10)) }
    var b = (0..<digits).map { _ in UInt8(rng.nextInt(below: 10)) }
    let start = rng.nextInt(below: digits - chain)  // the generating position; the chain follows
    a[start] = UInt8(1 + rng.nextInt(below: 9))
    b[start] = UInt8(10 - Int(a[start]) + rng.nextInt(below: Int(a[start])))  // a + b ≥ 10
    for k in (start + 1)...(start + chain) { b[k] = 9 - a[k] }
    if start + chain + 1 < digits, a[start + chain + 1] + b[start + chain + 1] == 9 {
      b[start + chain + 1] = (b[start + chain + 1] + 1) % 10  // the chain ends where it says
    }
    // Exactly `digits` digits each: non-zero leading digits that keep the chain as it is.
    let top = digits - 1
    if top <= start + chain {
      a[top] = UInt8(1 + rng.nextInt(below: 8))
      b[top] = 9 - a[top]
    } else {
      a[top] = UInt8(1 + rng.nextInt(below: 9))
      b[top] = UInt8(1 + rng.nextInt(below: 9))
      if top == start + chain + 1, a[top] + b[top] == 9 { b[top] = b[top] % 9 + 1 }
    }
    let x = Arithmetic(a: LongNumber(leastSignificantFirst: a), b: LongNumber(leastSignificantFirst: b), op: .add)
    return Arithmetic(a: x.a, b: x.b, op: .add, answer: x.result)
  }

  /// The longest run of positions a carry travels through in a + b (0: no carry propagates).
  public var longestCarryChain: Int {
    var longest = 0, run = 0, carry: UInt8 = 0
    for k in 0..<max(a.count, b.count) {
      let s = a[k] + b[k] + carry
      if carry == 1 && s >= 10 && a[k] + b[k] == 9 { run += 1 } else { run = 0 }
      carry = s >= 10 ? 1 : 0
      longest = max(longest, run)
    }
    return longest
  }

  /// Operand swap (valid for both operators).
  public var swapped: Arithmetic { Arithmetic(a: b, b: a, op: op, answer: answer) }

  // MARK: - Flat encoding

  public static let vocabularySize = 14
  /// Answer width W for operands of `digits` digits.
  public static func width(op: Op, digits: Int) -> Int { op == .add ? digits + 1 : 2 * digits }
  /// Sequence length 1 + 3W.
  public static func sequenceLength(op: Op, digits: Int) -> Int { 1 + 3 * width(op: op, digits: digits) }

  static func lsbDigits(_ v: LongNumber, _ w: Int) -> [Int32]? {
    v.count <= w ? (0..<w).map { Int32(v[$0]) + 2 } : nil
  }

  /// Input tokens for a layout of `digits`-digit operands (nil if an operand is too long).
  public func inputTokens(digits: Int) -> [Int32]? {
    let w = Arithmetic.width(op: op, digits: digits)
    guard a.count <= digits, b.count <= digits, let da = Arithmetic.lsbDigits(a, w),
      let db = Arithmetic.lsbDigits(b, w)
    else { return nil }
    return [op == .add ? 12 : 13] + da + db + Array(repeating: 1, count: w)
  }

  public func targetTokens(digits: Int) -> [Int32]? {
    let w = Arithmetic.width(op: op, digits: digits)
    guard let dc = Arithmetic.lsbDigits(answer ?? result, w) else { return nil }
    return Array(repeating: -100, count: 1 + 2 * w) + dc
  }

  /// The digits written by the answer positions, most significant first without leading zeros
  /// (nil if any position is not a digit or the token count is not the layout's). Any length.
  public static func decodeText(_ tokens: [Int32], digits: Int, op: Op) -> String? {
    let w = width(op: op, digits: digits)
    guard tokens.count == 1 + 3 * w else { return nil }
    return numberText(tokens[(1 + 2 * w)...])
  }

  /// Digit tokens (2…11) least significant first as a number's text; nil if one is not a digit.
  static func numberText<C: Collection>(_ tokens: C) -> String? where C.Element == Int32 {
    guard tokens.allSatisfy({ $0 >= 2 && $0 <= 11 }) else { return nil }
    return LongNumber(leastSignificantFirst: tokens.map { UInt8($0 - 2) }).description
  }
}

extension Arithmetic {
  /// The grid layout: a problem's digits aligned by significance (least significant first, in
  /// column 0) in the rows of a 2-D grid, so that a local, size-independent mixer (the 3×3
  /// convolution) reads problems of any length with the same weights. A layout for `d`-digit
  /// operands (shorter ones are zero-padded):
  ///
  /// - **addition**: one row of d + 1 cells. Cell k reads the digit pair (a_k, b_k) and writes
  ///   digit k of the sum; the carry travels one cell to the right.
  /// - **multiplication**: 2d − 1 rows of 2d cells, long multiplication written out. Row P_j
  ///   (j = 0…d−1) reads the pairs (a_{k−j}, b_j) — A shifted by j beside the multiplier digit
  ///   b_j — and writes the partial product a · b_j · 10^j; row S_j (j ≥ 1, right below P_j)
  ///   reads a marker and writes the running sum P_0 + … + P_j. The rows go P_0, P_1, S_1, P_2,
  ///   S_2, …: every cell needs only its row's left neighbour and the two rows above. The last
  ///   row is the answer; the others are scratchpad targets — supervised, never scored.
  ///
  /// Vocabulary: PAD 0, blank 1, output digits 0…9 → 2…11, digit pair (x, y) → 12 + 10x + y,
  /// running-sum marker 112.
  public enum Grid {
    public static let vocabularySize = 113
    static let sumMarker: Int32 = 112
    static func pair(_ x: UInt8, _ y: UInt8) -> Int32 { 12 + 10 * Int32(x) + Int32(y) }

    public static func rows(op: Op, digits: Int) -> Int { op == .add ? 1 : 2 * digits - 1 }
    public static func columns(op: Op, digits: Int) -> Int { width(op: op, digits: digits) }
    public static func cells(op: Op, digits: Int) -> Int {
      rows(op: op, digits: digits) * columns(op: op, digits: digits)
    }
    /// The answer row's cells (the last row): the only cells accuracy and verification read.
    public static func answerCells(op: Op, digits: Int) -> Range<Int> {
      let n = cells(op: op, digits: digits)
      return (n - columns(op: op, digits: digits))..<n
    }
  }

  /// Grid input tokens (nil if an operand is longer than `digits`).
  public func gridInputTokens(digits: Int) -> [Int32]? {
    guard a.count <= digits, b.count <= digits else { return nil }
    let w = Grid.columns(op: op, digits: digits)
    if op == .add { return (0..<w).map { Grid.pair(a[$0], b[$0]) } }
    var out: [Int32] = []
    for j in 0..<digits {
      out += (0..<w).map { k in Grid.pair(k >= j ? a[k - j] : 0, b[j]) }  // P_j
      if j > 0 { out += Array(repeating: Grid.sumMarker, count: w) }  // S_j
    }
    return out
  }

  /// Grid targets: every cell supervised (scratchpad rows included).
  public func gridTargetTokens(digits: Int) -> [Int32]? {
    guard a.count <= digits, b.count <= digits else { return nil }
    let w = Grid.columns(op: op, digits: digits)
    func row(_ v: LongNumber) -> [Int32] { (0..<w).map { Int32(v[$0]) + 2 } }
    if op == .add { return row(answer ?? result) }
    var sum = a * LongNumber(UInt64(b[0]))
    var out = row(sum)
    for j in 1..<max(digits, 1) {
      let p = (a * LongNumber(UInt64(b[j]))).shifted(by: j)
      sum = sum + p
      out += row(p) + row(sum)
    }
    return out
  }

  /// The answer written by a grid's last row, as text (nil if a cell is not a digit or the
  /// token count is not the layout's).
  public static func gridDecodeText(_ tokens: [Int32], digits: Int, op: Op) -> String? {
    guard tokens.count == Grid.cells(op: op, digits: digits) else { return nil }
    return numberText(tokens[Grid.answerCells(op: op, digits: digits)])
  }
}

extension Arithmetic {
  /// Whether this problem (in either operand order) belongs to the share of all problems kept
  /// for evaluation: 1 in `evaluationShare`, by a fixed hash of its digits. On-line training
  /// generators never draw such a problem and the shipped test suites are drawn only from them,
  /// so "never trained on" holds for runs of any length, not only for the problems a training
  /// command is told about.
  public var isReservedForEvaluation: Bool {
    // FNV-1a over the operands in canonical order: stable across runs, platforms and versions.
    let (x, y) = a < b ? (a, b) : (b, a)
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for d in x.digits + [10, op == .add ? 11 : 12] + y.digits {
      h = (h ^ UInt64(d)) &* 0x100_0000_01b3
    }
    return h % UInt64(Self.evaluationShare) == 0
  }

  /// One problem in this many is reserved for evaluation (`isReservedForEvaluation`).
  public static let evaluationShare = 16
}
