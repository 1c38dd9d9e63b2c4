/// SplitMix64: a small, fast, seedable generator (Steele, Lea & Flood 2014).
///
/// All randomness in TinyRecursion flows from explicit instances of this type: no global RNG.
/// Bounded sampling, shuffles and normals are our own so that a toolchain update cannot change
/// generated data (the standard library documents that `shuffle(using:)` may change).
public struct SplitMix64: RandomNumberGenerator, Codable, Hashable, Sendable {
  public private(set) var state: UInt64

  /// Creates a generator; equal seeds give equal streams. A generator's `state` is also its
  /// seed: `SplitMix64(seed: g.state)` continues `g`'s stream.
  public init(seed: UInt64) { state = seed }

  /// Encoded as its state alone (one integer), so a checkpoint can resume the stream.
  public init(from decoder: Decoder) throws { state = try decoder.singleValueContainer().decode(UInt64.self) }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(state)
  }

  /// Next 64 random bits.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in [0, 1) with 24 random bits.
  public mutating func nextFloat() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

  /// Uniform in [0, 1) with 53 random bits.
  public mutating func nextDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

  /// Uniform integer in `0..<bound` (Lemire's multiply-shift with rejection; exact, unbiased).
  public mutating func nextInt(below bound: Int) -> Int {
    precondition(bound > 0, "nextInt(below:) needs a positive bound, got \(bound)")
    let b = UInt64(bound)
    var m = next().multipliedFullWidth(by: b)
    if m.low < b {
      let threshold = (0 &- b) % b
      while m.low < threshold { m = next().multipliedFullWidth(by: b) }
    }
    return Int(m.high)
  }

  /// Uniform integer in a closed range.
  public mutating func nextInt(in range: ClosedRange<Int>) -> Int {
    range.lowerBound + nextInt(below: range.upperBound - range.lowerBound + 1)
  }

  /// Standard normal by Box–Muller (one value per call; the pair's twin is discarded).
  public mutating func nextNormal() -> Double {
    var u1 = nextDouble()
    while u1 <= 0 { u1 = nextDouble() }
    let u2 = nextDouble()
    return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
  }

  /// Normal with standard deviation `std` truncated to ±2 std by rejection (PyTorch's trunc_normal_ bounds).
  public mutating func nextTruncatedNormal(std: Double) -> Double {
    while true {
      let v = nextNormal()
      if abs(v) <= 2 { return v * std }
    }
  }

  /// Fisher–Yates shuffle with our own bounded sampling (stable across toolchains).
  public mutating func shuffle<T>(_ a: inout [T]) {
    guard a.count > 1 else { return }
    for i in stride(from: a.count - 1, to: 0, by: -1) {
      let j = nextInt(below: i + 1)
      if i != j { a.swapAt(i, j) }
    }
  }

  /// A random permutation of `0..<n`.
  public mutating func permutation(_ n: Int) -> [Int] {
    var p = Array(0..<n)
    shuffle(&p)
    return p
  }
}

// Double log/cos without Foundation, so this target stays dependency-free.
@inline(__always) private func _log(_ x: Double) -> Double { x.logValue }
@inline(__always) private func _cos(_ x: Double) -> Double { x.cosValue }

extension Double {
  fileprivate var logValue: Double {
    // log(x) = 2 atanh((x-1)/(x+1)) after range reduction to [0.5, 1) by the exponent.
    let e = Double(exponent) + 1
    let m = significand / 2  // in [0.5, 1)
    let t = (m - 1) / (m + 1), t2 = t * t
    var s = 0.0, p = t
    var k = 1.0
    while k < 60 {
      s += p / k
      p *= t2
      k += 2
    }
    return 2 * s + e * 0.693_147_180_559_945_3
  }

  fileprivate var cosValue: Double {
    var x = self.truncatingRemainder(dividingBy: 2 * Double.pi)
    if x > Double.pi { x -= 2 * Double.pi }
    if x < -Double.pi { x += 2 * Double.pi }
    let x2 = x * x
    var term = 1.0, sum = 1.0
    for i in 1..<20 {
      term *= -x2 / Double((2 * i - 1) * (2 * i))
      sum += term
    }
    return sum
  }
}
