import CTRMKernels

// Row kernels: each works on `rows` independent rows of `width` floats, in forward/backward
// pairs (backward kernels *accumulate* into gradient buffers, llm.c style), each with a naive
// `...Reference` twin. Parallel versions split over rows, so thread count never changes results.

/// Rows per parallel task for a row kernel of the given width (about 64K floats per task).
@inline(__always)
package func rowChunks(rows: Int, width: Int, threads: Int) -> [Range<Int>] {
  if threads <= 1 || rows * width < 32_768 { return [0..<rows] }
  let per = max(1, 65_536 / max(width, 1))
  return splitRange(rows, chunks: max(threads, (rows + per - 1) / per))
}

// MARK: - Elementwise

/// y = a + b (n floats) split over threads in 16-float-aligned chunks (elementwise, so the
/// result does not depend on the thread count).
package func addForward(
  _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, threads: Int
) {
  let chunks = rowChunks(rows: (n + 15) / 16, width: 16, threads: threads)
  if chunks.count <= 1 { addForward(a, b, y, n); return }
  let pa = SendablePointer(a), pb = SendablePointer(b), py = SendablePointer(y)
  parallelFor(chunks.count, threads: threads) { t in
    let lo = chunks[t].lowerBound * 16, hi = min(n, chunks[t].upperBound * 16)
    addForward(pa.p + lo, pb.p + lo, py.p + lo, hi - lo)
  }
}

/// y = a + b (n floats). May alias.
package func addForward(
  _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int
) {
  var i = 0
  while i + 16 <= n {
    let va = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
    let vb = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
    UnsafeMutableRawPointer(y + i).storeBytes(of: va + vb, as: SIMD16<Float>.self)
    i += 16
  }
  while i < n { y[i] = a[i] + b[i]; i += 1 }
}

/// y += s * x (n floats).
package func axpy(_ s: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
  var i = 0
  let vs = SIMD16<Float>(repeating: s)
  while i + 16 <= n {
    let vx = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
    let vy = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
    UnsafeMutableRawPointer(y + i).storeBytes(of: vy + vs * vx, as: SIMD16<Float>.self)
    i += 16
  }
  while i < n { y[i] += s * x[i]; i += 1 }
}

/// y = a * b elementwise (n floats).
package func mulForward(
  _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int
) {
  var i = 0
  while i + 16 <= n {
    let va = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
    let vb = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
    UnsafeMutableRawPointer(y + i).storeBytes(of: va * vb, as: SIMD16<Float>.self)
    i += 16
  }
  while i < n { y[i] = a[i] * b[i]; i += 1 }
}

/// y += a * b elementwise (n floats).
package func mulAccumulate(
  _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int
) {
  var i = 0
  while i + 16 <= n {
    let va = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
    let vb = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
    let vy = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
    UnsafeMutableRawPointer(y + i).storeBytes(of: vy + va * vb, as: SIMD16<Float>.self)
    i += 16
  }
  while i < n { y[i] += a[i] * b[i]; i += 1 }
}

/// Dot product of n floats with 16 SIMD lanes.
package func dotSIMD(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
  var acc = SIMD16<Float>(repeating: 0)
  var i = 0
  while i + 16 <= n {
    acc +=
      UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
      * UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
    i += 16
  }
  var s = acc.sum()
  while i < n { s += x[i] * y[i]; i += 1 }
  return s
}

// MARK: - SwiGLU: out = silu(g) * u, rows of gu = [g | u]

/// SwiGLU forward over rows of `2*width` (C kernel, runtime ISA).
package func swigluForward(
  _ gu: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, width: Int, threads: Int,
  isa: KernelISA = .best
) {
  let pg = SendablePointer(gu), po = SendablePointer(out)
  let chunks = rowChunks(rows: rows, width: 2 * width, threads: threads)
  parallelFor(chunks.count, threads: threads) { t in
    let r = chunks[t]
    trm_swiglu_forward(
      Int32(isa.rawValue), pg.p + r.lowerBound * 2 * width, po.p + r.lowerBound * width, r.count, width)
  }
}

/// SwiGLU backward, accumulating into dgu (or storing, when `accumulate` is false).
package func swigluBackward(
  _ gu: UnsafePointer<Float>, _ dout: UnsafePointer<Float>, _ dgu: UnsafeMutablePointer<Float>, rows: Int, width: Int,
  threads: Int, accumulate: Bool = true, isa: KernelISA = .best
) {
  let pg = SendablePointer(gu), pd = SendablePointer(dout), pdg = SendablePointer(dgu)
  let chunks = rowChunks(rows: rows, width: 2 * width, threads: threads)
  parallelFor(chunks.count, threads: threads) { t in
    let r = chunks[t]
    trm_swiglu_backward(
      Int32(isa.rawValue), pg.p + r.lowerBound * 2 * width, pd.p + r.lowerBound * width,
      pdg.p + r.lowerBound * 2 * width, r.count, width, accumulate ? 1 : 0)
  }
}

package func swigluForwardReference(
  _ gu: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, width: Int
) {
  for r in 0..<rows {
    for i in 0..<width {
      let g = Double(gu[r * 2 * width + i]), u = Double(gu[r * 2 * width + width + i])
      out[r * width + i] = Float(g / (1 + _exp(-g)) * u)
    }
  }
}

package func swigluBackwardReference(
  _ gu: UnsafePointer<Float>, _ dout: UnsafePointer<Float>, _ dgu: UnsafeMutablePointer<Float>, rows: Int, width: Int
) {
  for r in 0..<rows {
    for i in 0..<width {
      let g = Double(gu[r * 2 * width + i]), u = Double(gu[r * 2 * width + width + i])
      let d = Double(dout[r * width + i])
      let s = 1 / (1 + _exp(-g))
      dgu[r * 2 * width + i] += Float(d * u * (s + g * s * (1 - s)))
      dgu[r * 2 * width + width + i] += Float(d * g * s)
    }
  }
}

/// exp of n floats (C kernel, runtime ISA). x and y may alias.
package func vexp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, isa: KernelISA = .best) {
  trm_vexp(Int32(isa.rawValue), x, y, n)
}

// MARK: - RMSNorm without weight: y = x / sqrt(mean(x^2) + eps)

/// One row: y = x / √(mean(x²) + eps) (x and y may be the same row); returns 1/rms.
@inline(__always)
func rmsNormRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, width: Int, eps: Float) -> Float {
  let s = 1 / (dotSIMD(x, x, width) / Float(width) + eps).squareRoot()
  let vs = SIMD16<Float>(repeating: s)
  var i = 0
  while i + 16 <= width {
    UnsafeMutableRawPointer(y + i).storeBytes(
      of: vs * UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
    i += 16
  }
  while i < width { y[i] = s * x[i]; i += 1 }
  return s
}

/// Forward; saves 1/rms per row in `rstd` for the backward.
package func rmsNormForward(
  _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ rstd: UnsafeMutablePointer<Float>, rows: Int,
  width: Int, eps: Float, threads: Int
) {
  let px = SendablePointer(x), py = SendablePointer(y), pr = SendablePointer(rstd)
  let chunks = rowChunks(rows: rows, width: width, threads: threads)
  parallelFor(chunks.count, threads: threads) { t in
    for r in chunks[t] { pr.p[r] = rmsNormRow(px.p + r * width, py.p + r * width, width: width, eps: eps) }
  }
}

/// Fused residual + norm: y = rmsNorm(a + b) row by row (the sum never leaves the cache);
/// saves 1/rms per row in `rstd`. Same arithmetic as `addForward` then `rmsNormForward`.
package func addRMSNormForward(
  _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
  _ rstd: UnsafeMutablePointer<Float>, rows: Int, width: Int, eps: Float, threads: Int
) {
  let pa = SendablePointer(a), pb = SendablePointer(b), py = SendablePointer(y), pr = SendablePointer(rstd)
  let chunks = rowChunks(rows: rows, width: width, threads: threads)
  parallelFor(chunks.count, threads: threads) { t in
    for r in chunks[t] {
      let yr = py.p + r * width
      addForward(pa.p + r * width, pb.p + r * width, yr, width)
      pr.p[r] = rmsNormRow(yr, yr, width: width, eps: eps)
    }
  }
}

/// Backward from the output y and saved rstd: dx += rstd * (dy - y * mean(dy * y)).
package func rmsNormBackward(
  _ y: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
  _ dx: UnsafeMutablePointer<Float>, rows: Int, width: Int, threads: Int, accumulate: Bool = true
) {
  let py = SendablePointer(y), pr = SendablePointer(rstd), pdy = SendablePointer(dy), pdx = SendablePointer(dx)
  let chunks = rowChunks(rows: rows, width: width, threads: threads)
  parallelFor(chunks.count, threads: threads) { t in
    for r in chunks[t] {
      let yr = py.p + r * width, dyr = pdy.p + r * width, dxr = pdx.p + r * width
      let m = dotSIMD(dyr, yr, width) / Float(width)
      let s = pr.p[r]
      let vs = SIMD16<Float>(repeating: s), vm = SIMD16<Float>(repeating: m)
      var i = 0
      while i + 16 <= width {
        let vdy = UnsafeRawPointer(dyr + i).loadUnaligned(as: SIMD16<Float>.self)
        let vy = UnsafeRawPointer(yr + i).loadUnaligned(as: SIMD16<Float>.self)
        let v = vs * (vdy - vy * vm)
        if accumulate {
          let vdx = UnsafeRawPointer(dxr + i).loadUnaligned(as: SIMD16<Float>.self)
          UnsafeMutableRawPointer(dxr + i).storeBytes(of: vdx + v, as: SIMD16<Float>.self)
        } else {
          UnsafeMutableRawPointer(dxr + i).storeBytes(of: v, as: SIMD16<Float>.self)
        }
        i += 16
      }
      while i < width {
        let v = s * (dyr[i] - yr[i] * m)
        dxr[i] = accumulate ? dxr[i] + v : v
        i += 1
      }
    }
  }
}

package func rmsNormForwardReference(
  _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, width: Int, eps: Float
) {
  for r in 0..<rows {
    var ss = 0.0
    for i in 0..<width { ss += Double(x[r * width + i]) * Double(x[r * width + i]) }
    let s = 1 / (ss / Double(width) + Double(eps)).squareRoot()
    for i in 0..<width { y[r * width + i] = Float(Double(x[r * width + i]) * s) }
  }
}

// MARK: - Transpose of the last two axes: [B, R, C] -> [B, C, R]

/// Blocked transpose; with `accumulate` adds into y.
package func transposeLast2(
  _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, rows: Int, cols: Int, accumulate: Bool,
  threads: Int, isa: KernelISA = .best
) {
  let px = SendablePointer(x), py = SendablePointer(y)
  let tile = 32
  let rowTiles = (rows + tile - 1) / tile
  let tasks = batch * rowTiles
  parallelFor(tasks, threads: rows * cols * batch < 32_768 ? 1 : threads) { t in
    let b = t / rowTiles, r0 = (t % rowTiles) * tile
    trm_transpose(
      Int32(isa.rawValue), px.p + b * rows * cols, py.p + b * rows * cols, rows, cols, r0, min(rows, r0 + tile),
      accumulate ? 1 : 0)
  }
}

package func transposeLast2Reference(
  _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, rows: Int, cols: Int
) {
  for b in 0..<batch {
    for r in 0..<rows { for c in 0..<cols { y[b * rows * cols + c * rows + r] = x[b * rows * cols + r * cols + c] } }
  }
}

// MARK: - Softmax over rows (in place), fused C kernel (max, exp + sum, scale)

package func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, isa: KernelISA = .best) {
  trm_softmax_rows(Int32(isa.rawValue), x, rows, width)
}

package func softmaxRowsReference(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
  for r in 0..<rows {
    let xr = x + r * width
    var m = -Double.infinity
    for i in 0..<width { m = max(m, Double(xr[i])) }
    var s = 0.0
    for i in 0..<width { s += _exp(Double(xr[i]) - m) }
    for i in 0..<width { xr[i] = Float(_exp(Double(xr[i]) - m) / s) }
  }
}

// MARK: - Cross-entropy rows (softmax or stablemax), with an ignore label

/// How logits become probabilities in the cross-entropy.
public enum CrossEntropyKind: String, Sendable, Codable, CaseIterable {
  /// p = exp(x) / Σ exp(x)
  case softmax
  /// p = s(x) / Σ s(x) with s(x) = x + 1 for x ≥ 0 and 1 / (1 − x) otherwise
  /// (TRM reference `stablemax_cross_entropy`, computed in double precision there and here).
  case stablemax
}

@inline(__always) package func stablemaxS(_ x: Double) -> Double { x >= 0 ? x + 1 : 1 / (1 - x) }

/// Per row: loss = −log p[label] (0 when label == ignore). Writes `probs` (the normalized
/// probabilities, needed by the backward) and returns the losses. Double accumulation.
package func crossEntropyForward(
  _ logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, vocab: Int, kind: CrossEntropyKind,
  ignore: Int32, probs: UnsafeMutablePointer<Float>, losses: UnsafeMutablePointer<Float>
) {
  for r in 0..<rows {
    let lr = logits + r * vocab, pr = probs + r * vocab
    var total = 0.0
    switch kind {
    case .softmax:
      var m = -Double.infinity
      for i in 0..<vocab { m = max(m, Double(lr[i])) }
      for i in 0..<vocab { let e = _exp(Double(lr[i]) - m); pr[i] = Float(e); total += e }
    case .stablemax:
      for i in 0..<vocab { let s = stablemaxS(Double(lr[i])); pr[i] = Float(s); total += s }
    }
    let label = labels[r]
    if label == ignore || label < 0 || Int(label) >= vocab {
      losses[r] = 0
    } else {
      let raw = kind == .softmax ? _exp(Double(lr[Int(label)]) - _maxOf(lr, vocab)) : stablemaxS(Double(lr[Int(label)]))
      losses[r] = Float(-_logD(raw / total))
    }
    let inv = Float(1 / total)
    for i in 0..<vocab { pr[i] *= inv }
  }
}

/// dlogits += w[r] * d(loss_r)/dlogits. Softmax: p − onehot. Stablemax: with q = s/Σs,
/// d/dx_i = q_i·s'(x_i)/s(x_i) − [i = label]·s'(x_i)/s(x_i), s'/s = 1/(x+1) for x ≥ 0, 1/(1−x) else.
package func crossEntropyBackward(
  _ logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, probs: UnsafePointer<Float>,
  rowWeights: UnsafePointer<Float>, rows: Int, vocab: Int, kind: CrossEntropyKind, ignore: Int32,
  dlogits: UnsafeMutablePointer<Float>
) {
  for r in 0..<rows {
    let label = labels[r]
    if label == ignore || label < 0 || Int(label) >= vocab { continue }
    let w = rowWeights[r]
    let lr = logits + r * vocab, pr = probs + r * vocab, dr = dlogits + r * vocab
    for i in 0..<vocab {
      let hot: Float = i == Int(label) ? 1 : 0
      switch kind {
      case .softmax:
        dr[i] += w * (pr[i] - hot)
      case .stablemax:
        let x = lr[i]
        let ratio: Float = x >= 0 ? 1 / (x + 1) : 1 / (1 - x)
        dr[i] += w * ratio * (pr[i] - hot)
      }
    }
  }
}

@inline(__always) private func _maxOf(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
  var m = -Double.infinity
  for i in 0..<n { m = max(m, Double(p[i])) }
  return m
}

// MARK: - Scalar math without Foundation

/// Double-precision exp (range reduction + Taylor series), correct to ~1 ulp; for reference
/// twins and losses, not hot loops.
@inline(__always) package func _exp(_ x: Double) -> Double {
  if x.isNaN { return .nan }  // a diverged run: a NaN loss to report, not a trap in Int(_:)
  if x > 709 { return .infinity }
  if x < -745 { return 0 }
  let n = (x * 1.4426950408889634).rounded()
  let r = x - n * 0.6931471805599453
  var term = 1.0, sum = 1.0
  for i in 1..<18 {
    term *= r / Double(i)
    sum += term
  }
  return sum * _pow2(Int(n))
}

@inline(__always) package func _pow2(_ n: Int) -> Double {
  if n < -1022 { return Double(sign: .plus, exponent: n, significand: 1) }
  return Double(sign: .plus, exponent: n, significand: 1)
}

/// Double-precision natural log.
@inline(__always) package func _logD(_ x: Double) -> Double {
  if x <= 0 { return x == 0 ? -.infinity : .nan }
  if x.isInfinite { return .infinity }
  let e = Double(x.exponent) + 1
  let m = x.significand / 2
  let t = (m - 1) / (m + 1), t2 = t * t
  var s = 0.0, p = t, k = 1.0
  while k < 60 { s += p / k; p *= t2; k += 2 }
  return 2 * s + e * 0.6931471805599453
}
