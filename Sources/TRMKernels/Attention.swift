import CTRMKernels

// Non-causal multi-head self-attention with rotary position embeddings, as one fused kernel.
//
// Glossary: B batch, L sequence length, H heads, d head dim, D = H·d.
// qkv [B, L, 3D]: the last axis holds q (heads 0..H-1, each d wide), then k, then v
// (PyTorch `view(B, L, 3, H, d)`). out [B, L, D]. probs [B, H, L, L] saved for the backward.
// Rotary ("rotate half"): for position p and i < d/2 with angle θ = p · base^(−2i/d),
// q'[i] = q[i]·cos θ − q[i+d/2]·sin θ and q'[i+d/2] = q[i+d/2]·cos θ + q[i]·sin θ (same for k).

/// Cos/sin tables [L, d] for rotary embeddings (the half-width angles repeated twice).
///
/// 1-D (default): position p is the index in the sequence, pair i rotates by p · base^(−2i/d).
/// 2-D (`grid` set): the first `prefix` positions are non-grid tokens, the rest are the cells of
/// a grid with `grid` columns in row-major order. Pairs i < d/4 rotate with the cell's row and
/// pairs d/4 ≤ i < d/2 with its column, each axis using frequencies base^(−2j/(d/2)); so the
/// score of a query/key pair depends only on their (Δrow, Δcol), whatever the grid width, and a
/// cell's vertical neighbour is as close as its horizontal one. Prefix token j sits at
/// (row −1−j, column −1), outside the grid.
public struct RotaryTables: Sendable {
  public let length: Int, headDim: Int
  public let cos: [Float], sin: [Float]
  public init(length: Int, headDim: Int, base: Double = 10_000, grid: (columns: Int, prefix: Int)? = nil) {
    precondition(headDim % 2 == 0, "rotary head dim must be even, got \(headDim)")
    if grid != nil { precondition(headDim % 4 == 0, "2-D rotary head dim must be a multiple of 4, got \(headDim)") }
    self.length = length
    self.headDim = headDim
    var c = [Float](repeating: 0, count: length * headDim), s = c
    let half = headDim / 2
    for p in 0..<length {
      for i in 0..<half {
        let angle: Double
        if let grid {
          let (row, col) =
            p < grid.prefix ? (-1 - p, -1) : ((p - grid.prefix) / grid.columns, (p - grid.prefix) % grid.columns)
          let quarter = half / 2, j = i % quarter
          let invFreq = _exp(-_logD(base) * Double(2 * j) / Double(half))
          angle = Double(i < quarter ? row : col) * invFreq
        } else {
          angle = Double(p) * _exp(-_logD(base) * Double(2 * i) / Double(headDim))
        }
        let (cv, sv) = (cosD(angle), sinD(angle))
        c[p * headDim + i] = Float(cv); c[p * headDim + i + half] = Float(cv)
        s[p * headDim + i] = Float(sv); s[p * headDim + i + half] = Float(sv)
      }
    }
    cos = c
    sin = s
  }
}

private func cosD(_ x: Double) -> Double { sinD(x + Double.pi / 2) }
private func sinD(_ x: Double) -> Double {
  var r = x.truncatingRemainder(dividingBy: 2 * Double.pi)
  if r > Double.pi { r -= 2 * Double.pi }
  if r < -Double.pi { r += 2 * Double.pi }
  let r2 = r * r
  var term = r, sum = r
  for i in 1..<22 {
    term *= -r2 / Double((2 * i) * (2 * i + 1))
    sum += term
  }
  return sum
}

/// Applies the rotation to `rows` consecutive positions (from position 0) of one head: src rows
/// `lds` apart into dst rows `ldd` apart (C kernel, runtime ISA). `inverse` applies the transpose
/// (used to pull gradients back through the rotation).
@inline(__always)
private func rotateRows(
  _ rotary: RotaryTables, _ src: UnsafePointer<Float>, lds: Int, _ dst: UnsafeMutablePointer<Float>, ldd: Int,
  rows: Int, d: Int, inverse: Bool
) {
  rotary.cos.withUnsafeBufferPointer { c in
    rotary.sin.withUnsafeBufferPointer { s in
      trm_rotary_rows(
        Int32(KernelISA.best.rawValue), src, lds, dst, ldd, c.baseAddress!, s.baseAddress!, rows, d, inverse ? 1 : 0)
    }
  }
}

/// q and k of one (batch, head) into contiguous [L, d] buffers, rotated when `rotary` is set.
@inline(__always)
private func gatherQK(
  _ base: UnsafePointer<Float>, ld: Int, D: Int, L: Int, d: Int, rotary: RotaryTables?, q: UnsafeMutablePointer<Float>,
  k: UnsafeMutablePointer<Float>
) {
  if let rotary {
    rotateRows(rotary, base, lds: ld, q, ldd: d, rows: L, d: d, inverse: false)
    rotateRows(rotary, base + D, lds: ld, k, ldd: d, rows: L, d: d, inverse: false)
  } else {
    for p in 0..<L {
      (q + p * d).update(from: base + p * ld, count: d)
      (k + p * d).update(from: base + p * ld + D, count: d)
    }
  }
}

/// Attention forward. Writes out and probs. Parallel over (batch, head).
package func attentionForward(
  qkv: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>, batch: Int,
  length: Int, heads: Int, headDim: Int, rotary: RotaryTables?, threads: Int
) {
  let L = length, d = headDim, D = heads * d, ld = 3 * D
  let scale = 1 / Float(d).squareRoot()
  let pq = SendablePointer(qkv), po = SendablePointer(out), pp = SendablePointer(probs)
  parallelFor(batch * heads, threads: threads) { task in
    let b = task / heads, h = task % heads
    let q = allocateFloats(2 * L * d)
    defer { deallocateFloats(q) }
    let k = q + L * d
    let base = pq.p + b * L * ld + h * d
    gatherQK(base, ld: ld, D: D, L: L, d: d, rotary: rotary, q: q, k: k)
    let P = pp.p + task * L * L
    gemm(
      transA: false, transB: true, m: L, n: L, k: d, alpha: scale, a: q, lda: d, b: k, ldb: d, accumulate: false, c: P,
      ldc: L)
    softmaxRows(P, rows: L, width: L)
    gemm(
      transA: false, transB: false, m: L, n: d, k: L, a: P, lda: L, b: base + 2 * D, ldb: ld, accumulate: false,
      c: po.p + b * L * D + h * d, ldc: D)
  }
}

/// Attention backward, accumulating into dqkv.
package func attentionBackward(
  qkv: UnsafePointer<Float>, probs: UnsafePointer<Float>, dout: UnsafePointer<Float>, dqkv: UnsafeMutablePointer<Float>,
  batch: Int, length: Int, heads: Int, headDim: Int, rotary: RotaryTables?, threads: Int
) {
  let L = length, d = headDim, D = heads * d, ld = 3 * D
  let scale = 1 / Float(d).squareRoot()
  let pq = SendablePointer(qkv), pp = SendablePointer(probs), pdo = SendablePointer(dout), pdq = SendablePointer(dqkv)
  parallelFor(batch * heads, threads: threads) { task in
    let b = task / heads, h = task % heads
    let scratch = allocateFloats(4 * L * d + L * L)
    defer { deallocateFloats(scratch) }
    let q = scratch, k = q + L * d, dq = k + L * d, dk = dq + L * d, dS = dk + L * d
    let base = pq.p + b * L * ld + h * d
    let dbase = pdq.p + b * L * ld + h * d
    let dO = pdo.p + b * L * D + h * d
    gatherQK(base, ld: ld, D: D, L: L, d: d, rotary: rotary, q: q, k: k)
    let P = pp.p + task * L * L
    // dV += Pᵀ dO
    gemm(
      transA: true, transB: false, m: L, n: d, k: L, a: P, lda: L, b: dO, ldb: D, accumulate: true, c: dbase + 2 * D,
      ldc: ld)
    // dP = dO Vᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale
    gemm(
      transA: false, transB: true, m: L, n: L, k: d, a: dO, lda: D, b: base + 2 * D, ldb: ld, accumulate: false, c: dS,
      ldc: L)
    for r in 0..<L {
      let pr = P + r * L, sr = dS + r * L
      let dot = dotSIMD(pr, sr, L)
      for j in 0..<L { sr[j] = pr[j] * (sr[j] - dot) * scale }
    }
    gemm(transA: false, transB: false, m: L, n: d, k: L, a: dS, lda: L, b: k, ldb: d, accumulate: false, c: dq, ldc: d)
    gemm(transA: true, transB: false, m: L, n: d, k: L, a: dS, lda: L, b: q, ldb: d, accumulate: false, c: dk, ldc: d)
    if let rotary {
      // q and k are no longer needed: they receive the un-rotated dq and dk.
      rotateRows(rotary, dq, lds: d, q, ldd: d, rows: L, d: d, inverse: true)
      rotateRows(rotary, dk, lds: d, k, ldd: d, rows: L, d: d, inverse: true)
      for p in 0..<L {
        let drow = dbase + p * ld, gq = q + p * d, gk = k + p * d
        for i in 0..<d { drow[i] += gq[i]; drow[D + i] += gk[i] }
      }
    } else {
      for p in 0..<L {
        let drow = dbase + p * ld
        for i in 0..<d { drow[i] += dq[p * d + i]; drow[D + i] += dk[p * d + i] }
      }
    }
  }
}

/// Naive twin of `attentionForward` in Double, no GEMM, no vectorized exp.
package func attentionForwardReference(
  qkv: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, batch: Int, length: Int, heads: Int, headDim: Int,
  rotary: RotaryTables?
) {
  let L = length, d = headDim, D = heads * d, ld = 3 * D, half = d / 2
  func rot(_ v: [Double], _ p: Int) -> [Double] {
    guard let rotary else { return v }
    var o = v
    for i in 0..<half {
      let c = Double(rotary.cos[p * d + i]), s = Double(rotary.sin[p * d + i])
      o[i] = v[i] * c - v[i + half] * s
      o[i + half] = v[i + half] * c + v[i] * s
    }
    return o
  }
  for b in 0..<batch {
    for h in 0..<heads {
      var Q: [[Double]] = [], K: [[Double]] = [], V: [[Double]] = []
      for p in 0..<L {
        let row = qkv + b * L * ld + p * ld + h * d
        Q.append(rot((0..<d).map { Double(row[$0]) }, p))
        K.append(rot((0..<d).map { Double(row[D + $0]) }, p))
        V.append((0..<d).map { Double(row[2 * D + $0]) })
      }
      for i in 0..<L {
        var s = (0..<L).map { j in (0..<d).reduce(0.0) { $0 + Q[i][$1] * K[j][$1] } / Double(d).squareRoot() }
        let m = s.max()!
        s = s.map { _exp($0 - m) }
        let z = s.reduce(0, +)
        for c in 0..<d {
          var acc = 0.0
          for j in 0..<L { acc += s[j] / z * V[j][c] }
          out[b * L * D + i * D + h * d + c] = Float(acc)
        }
      }
    }
  }
}
