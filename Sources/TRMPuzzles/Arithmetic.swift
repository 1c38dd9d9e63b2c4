import TRMRandom

/// Multi-digit addition or multiplication of non-negative integers.
///
/// Text format: `A+B` or `A+B=C`, `A*B` or `A*B=C` (decimal; leading zeros are accepted on input
/// and never written). Operands are limited to 18 digits so the exact check fits in 64 bits.
///
/// Token layout (fixed width W = the answer width for the suite's digit count `d`:
/// d + 1 for `+`, 2d for `*`), least-significant digit first so that carries move one position
/// to the right of the digit that causes them:
/// ```
/// position:  0      1 … W        W+1 … 2W      2W+1 … 3W
/// input:     op     A (LSB first) B (LSB first) blank × W
/// target:    –      –             –             C (LSB first, zero-padded)
/// ```
/// Vocabulary: PAD 0, blank 1, digits 0…9 → 2…11, `+` 12, `*` 13. Unsupervised positions have
/// the ignore label.
public struct Arithmetic: Equatable, Sendable {
  public enum Op: Character, Sendable { case add = "+", multiply = "*" }
  public var a: UInt64, b: UInt64
  public var op: Op
  /// The stated answer, if the line had one.
  public var answer: UInt64?

  public init(a: UInt64, b: UInt64, op: Op, answer: UInt64? = nil) {
    self.a = a
    self.b = b
    self.op = op
    self.answer = answer
  }

  /// a + b or a · b. Lines parsed from text are checked to fit in 64 bits (the parser throws
  /// otherwise); a value built directly must fit too.
  public var result: UInt64 {
    let (r, overflow) = op == .add ? a.addingReportingOverflow(b) : a.multipliedReportingOverflow(by: b)
    precondition(!overflow, "\(a)\(op.rawValue)\(b) does not fit in 64 bits")
    return r
  }

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
    func number(_ t: Substring, _ what: String) throws -> UInt64 {
      guard !t.isEmpty, t.allSatisfy({ $0.isASCII && $0.isNumber }) else {
        throw PuzzleError.reason("\(what) '\(t)' is not a non-negative decimal integer")
      }
      guard t.drop(while: { $0 == "0" }).count <= 18, let v = UInt64(t) else {
        throw PuzzleError.reason("\(what) '\(t)' has more than 18 digits")
      }
      return v
    }
    let a = try number(lhs, "left operand"), b = try number(sides[0], "right operand")
    let c = sides.count == 2 ? try number(sides[1], "answer") : nil
    self.init(a: a, b: b, op: op, answer: c)
    if op == .multiply, a > 0, b > UInt64.max / a { throw PuzzleError.reason("product overflows 64 bits") }
    if op == .add, a > UInt64.max - b { throw PuzzleError.reason("sum overflows 64 bits") }
    if let c, c != result {
      throw PuzzleError.reason("inconsistent answer: \(a)\(op.rawValue)\(b) is \(result), not \(c)")
    }
  }

  public var inputText: String { "\(a)\(op.rawValue)\(b)" }
  public var line: String { inputText + (answer.map { "=\($0)" } ?? "") }

  /// Exact integer check of a claimed answer.
  public func verify(_ claimed: UInt64?) -> String? {
    guard let claimed else { return "answer is not a number" }
    return claimed == result ? nil : "\(inputText) is \(result), not \(claimed)"
  }

  /// Random problem with operands of exactly `digits` digits (leading digit non-zero).
  public static func generate(op: Op, digits: Int, rng: inout SplitMix64) -> Arithmetic {
    precondition(digits >= 1 && digits <= 9, "digits must be 1…9")
    func operand() -> UInt64 {
      let lo = digits == 1 ? 0 : pow10(digits - 1)
      return UInt64(lo + rng.nextInt(below: pow10(digits) - lo))
    }
    let x = Arithmetic(a: operand(), b: operand(), op: op)
    return Arithmetic(a: x.a, b: x.b, op: op, answer: x.result)
  }

  /// Operand swap (valid for both operators).
  public var swapped: Arithmetic { Arithmetic(a: b, b: a, op: op, answer: answer) }

  // MARK: - Encoding

  public static let vocabularySize = 14
  /// Answer width W for operands of `digits` digits.
  public static func width(op: Op, digits: Int) -> Int { op == .add ? digits + 1 : 2 * digits }
  /// Sequence length 1 + 3W.
  public static func sequenceLength(op: Op, digits: Int) -> Int { 1 + 3 * width(op: op, digits: digits) }

  static func lsbDigits(_ v: UInt64, _ w: Int) -> [Int32]? {
    var v = v
    var out: [Int32] = []
    for _ in 0..<w { out.append(Int32(v % 10) + 2); v /= 10 }
    return v == 0 ? out : nil
  }

  /// Input tokens for a layout of `digits`-digit operands (nil if an operand is too long).
  public func inputTokens(digits: Int) -> [Int32]? {
    let w = Arithmetic.width(op: op, digits: digits)
    guard let da = Arithmetic.lsbDigits(a, w), let db = Arithmetic.lsbDigits(b, w) else { return nil }
    return [op == .add ? 12 : 13] + da + db + Array(repeating: 1, count: w)
  }

  public func targetTokens(digits: Int) -> [Int32]? {
    let w = Arithmetic.width(op: op, digits: digits)
    guard let dc = Arithmetic.lsbDigits(answer ?? result, w) else { return nil }
    return Array(repeating: -100, count: 1 + 2 * w) + dc
  }

  /// The number written by the answer positions of predicted tokens (nil if any is not a digit).
  public static func decode(_ tokens: [Int32], digits: Int, op: Op) -> UInt64? {
    let w = width(op: op, digits: digits)
    guard tokens.count == 1 + 3 * w else { return nil }
    var v: UInt64 = 0
    for t in tokens[(1 + 2 * w)...].reversed() {
      guard t >= 2 && t <= 11 else { return nil }
      // A predicted answer can be longer than 64 bits hold (20 digits for 10-digit factors):
      // no number then, not a crash. Every true answer fits (the parser checks).
      let (times10, o1) = v.multipliedReportingOverflow(by: 10)
      let (next, o2) = times10.addingReportingOverflow(UInt64(t - 2))
      guard !o1 && !o2 else { return nil }
      v = next
    }
    return v
  }

  /// The digits written by the answer positions, most significant first without leading zeros
  /// (nil if any position is not a digit). Unlike `decode`, any length.
  public static func decodeText(_ tokens: [Int32], digits: Int, op: Op) -> String? {
    let w = width(op: op, digits: digits)
    guard tokens.count == 1 + 3 * w else { return nil }
    var text = ""
    for t in tokens[(1 + 2 * w)...].reversed() {
      guard t >= 2 && t <= 11 else { return nil }
      text.append(Character(String(t - 2)))
    }
    let trimmed = text.drop { $0 == "0" }
    return trimmed.isEmpty ? "0" : String(trimmed)
  }
}

func pow10(_ n: Int) -> Int { (0..<n).reduce(1) { r, _ in r * 10 } }
