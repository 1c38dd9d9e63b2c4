import TRMRandom

/// A non-negative integer of any length, held as decimal digits least-significant first — what
/// arithmetic problems are made of, so that 32-digit sums and 20-digit products are checked
/// exactly (schoolbook addition and multiplication; the lengths here are at most a few hundred
/// digits).
public struct LongNumber: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByIntegerLiteral {
  /// Digits 0…9, least significant first, no leading (trailing in this order) zeros; zero is [0].
  public private(set) var digits: [UInt8]

  /// From digits least-significant first (leading zeros dropped). Every element must be 0…9.
  public init<S: Sequence>(leastSignificantFirst d: S) where S.Element == UInt8 {
    var ds = Array(d)
    precondition(ds.allSatisfy { $0 <= 9 }, "LongNumber: a digit outside 0…9")
    while ds.count > 1 && ds.last == 0 { ds.removeLast() }
    digits = ds.isEmpty ? [0] : ds
  }

  public init(_ v: UInt64) {
    var v = v, ds: [UInt8] = []
    repeat {
      ds.append(UInt8(v % 10))
      v /= 10
    } while v > 0
    digits = ds
  }

  public init(integerLiteral v: UInt64) { self.init(v) }

  /// Parses decimal text (leading zeros allowed); nil unless every character is 0…9 and there
  /// is at least one.
  public init?<S: StringProtocol>(_ text: S) {
    guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
    self.init(leastSignificantFirst: text.utf8.reversed().map { $0 - 48 })
  }

  /// Number of digits (1 for zero).
  public var count: Int { digits.count }

  public var description: String { String(decoding: digits.reversed().map { $0 + 48 }, as: UTF8.self) }

  /// Digit `i` (0 = units), 0 beyond the number's length.
  public subscript(i: Int) -> UInt8 { i >= 0 && i < digits.count ? digits[i] : 0 }

  public static func + (x: LongNumber, y: LongNumber) -> LongNumber {
    var out: [UInt8] = []
    out.reserveCapacity(max(x.count, y.count) + 1)
    var carry: UInt8 = 0
    for i in 0..<max(x.count, y.count) {
      let s = x[i] + y[i] + carry
      out.append(s % 10)
      carry = s / 10
    }
    if carry > 0 { out.append(carry) }
    return LongNumber(leastSignificantFirst: out)
  }

  public static func * (x: LongNumber, y: LongNumber) -> LongNumber {
    var acc = [Int](repeating: 0, count: x.count + y.count + 1)
    for (i, a) in x.digits.enumerated() where a != 0 {
      for (j, b) in y.digits.enumerated() { acc[i + j] += Int(a) * Int(b) }
    }
    var carry = 0
    for k in acc.indices {
      let s = acc[k] + carry
      acc[k] = s % 10
      carry = s / 10
    }
    precondition(carry == 0, "LongNumber: product longer than its digit bound")
    return LongNumber(leastSignificantFirst: acc.map { UInt8($0) })
  }

  /// This number times 10^k.
  public func shifted(by k: Int) -> LongNumber {
    self == 0 ? self : LongNumber(leastSignificantFirst: Array(repeating: 0, count: k) + digits)
  }

  public static func < (x: LongNumber, y: LongNumber) -> Bool {
    if x.count != y.count { return x.count < y.count }
    for i in stride(from: x.count - 1, through: 0, by: -1) where x.digits[i] != y.digits[i] {
      return x.digits[i] < y.digits[i]
    }
    return false
  }

  /// A uniformly random number of exactly `length` digits (leading digit non-zero; any digit
  /// for length 1).
  public static func random(length: Int, rng: inout SplitMix64) -> LongNumber {
    precondition(length >= 1, "LongNumber.random: length must be ≥ 1")
    var ds = (0..<length).map { _ in UInt8(rng.nextInt(below: 10)) }
    if length > 1 { ds[length - 1] = UInt8(1 + rng.nextInt(below: 9)) }
    return LongNumber(leastSignificantFirst: ds)
  }
}
