import TRMRandom
import TRMTensor

/// Result of a finite-difference gradient check, with the worst element so failures say where.
public struct GradCheckReport: CustomStringConvertible {
  public var maxAbsError: Double = 0
  public var maxRelError: Double = 0
  public var worst = ""
  public var checked = 0
  public var passed = true
  public var description: String {
    "checked \(checked) entries, max abs err \(maxAbsError), max rel err "
      + "\(maxRelError)\(passed ? "" : ", worst: \(worst)")"
  }
}

/// Random tensor with values uniform in ±scale.
public func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
  var g = SplitMix64(seed: seed)
  let n = shape.reduce(1, *)
  return Tensor((0..<n).map { _ in (g.nextFloat() * 2 - 1) * scale }, shape: shape)
}

/// Central-difference gradient check of `f` with respect to every entry (or `maxEntries`
/// sampled entries) of each parameter. `f` builds the computation on the given graph and returns
/// any tensor; it is reduced to a scalar by a fixed random projection so every output matters.
/// Step size is float32-aware: h = step · max(1, |x|); the loss is evaluated in Double.
public func gradCheck(
  _ params: [Parameter], step: Float = 1e-2, atol: Double = 1e-3, rtol: Double = 2e-2,
  maxEntries: Int = 40, seed: UInt64 = 99, _ f: (Graph) -> Var
) -> GradCheckReport {
  // Projection weights, fixed by seed.
  let probe = f(Graph(recording: false))
  let weights = randomTensor(probe.shape, seed: seed)
  func loss() -> Double {
    let out = f(Graph(recording: false)).value
    var s = 0.0
    for i in 0..<out.count { s += Double(out[flat: i]) * Double(weights[flat: i]) }
    return s
  }
  for p in params { p.zeroGrad() }
  let g = Graph(recording: true)
  let out = f(g)
  g.backward(out, seed: weights)
  var report = GradCheckReport()
  var rng = SplitMix64(seed: seed &+ 1)
  for p in params {
    let n = p.value.count
    let idx = n <= maxEntries ? Array(0..<n) : (0..<maxEntries).map { _ in rng.nextInt(below: n) }
    for i in idx {
      let x0 = p.value[flat: i]
      let h = step * max(1, abs(x0))
      p.value.withMutableData { $0[i] = x0 + h }
      let lp = loss()
      p.value.withMutableData { $0[i] = x0 - h }
      let lm = loss()
      p.value.withMutableData { $0[i] = x0 }
      let numeric = (lp - lm) / (2 * Double(h))
      let analytic = Double(p.grad[flat: i])
      let err = abs(numeric - analytic)
      let rel = err / max(abs(numeric), 1e-6)
      report.checked += 1
      report.maxAbsError = max(report.maxAbsError, err)
      if abs(numeric) > 1e-3 { report.maxRelError = max(report.maxRelError, rel) }
      if err > atol + rtol * abs(numeric) {
        report.passed = false
        report.worst = "\(p.name)[\(i)] analytic \(analytic) numeric \(numeric)"
      }
    }
  }
  return report
}

/// Max |a − b| / max(1, |b|) with the index where it happens.
public func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> (error: Float, index: Int) {
  precondition(a.count == b.count, "lengths \(a.count) and \(b.count) differ")
  var worst: Float = 0, at = 0
  for i in 0..<a.count {
    let e = abs(a[i] - b[i]) / max(1, abs(b[i]))
    if e.isNaN || e > worst { worst = e.isNaN ? .infinity : e; at = i }
  }
  return (worst, at)
}
