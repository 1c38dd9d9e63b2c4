// MARK: - 3×3 convolution over a channel-last grid
//
// Glossary: B batch, H grid rows, W grid columns, C channels (in = out), R = B·H·W cells.
// x, y: [B, H·W, C] (cells row-major, channels last: the [B, L, D] layout of the model).
// weight: [C, 9·C] (PyTorch `Linear` layout over the unfolded taps): column t·C + c is input
// channel c at tap t = (di + 1)·3 + (dj + 1), di, dj ∈ {−1, 0, 1}. Zero padding at the border.
//
// Fast path: unfold the 3×3 neighbourhood of every cell into `col` [R, 9C] (im2col), then one
// GEMM y = col · weightᵀ; the GEMM is the runtime-dispatched AVX-512/AVX2 kernel. Backward:
// dW += dyᵀ · col, and dx += unfold(dy) · W̃ᵀ with the taps mirrored (a 3×3 convolution's input
// gradient is the convolution of dy with the flipped kernel), so every worker owns disjoint
// outputs and 1 and 2 threads give bit-identical results.

/// Unfolds 3×3 neighbourhoods: col[(b·H + i)·W + j, t·C ..< (t+1)·C] = x[b, (i+di)·W + (j+dj), :]
/// (zero outside the grid). Parallel over grid rows.
package func conv3x3Unfold(
  _ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>,
  batch B: Int, height H: Int, width W: Int, channels C: Int, threads: Int = 1
) {
  let px = SendablePointer(x), pc = SendablePointer(col)
  parallelFor(B * H, threads: B * H * W * C < 1 << 14 ? 1 : threads) { bi in
    let b = bi / H, i = bi % H
    for j in 0..<W {
      let dst = pc.p + ((b * H + i) * W + j) * 9 * C
      for t in 0..<9 {
        let ii = i + t / 3 - 1, jj = j + t % 3 - 1
        if ii < 0 || ii >= H || jj < 0 || jj >= W {
          (dst + t * C).update(repeating: 0, count: C)
        } else {
          (dst + t * C).update(from: px.p + ((b * H + ii) * W + jj) * C, count: C)
        }
      }
    }
  }
}

/// y = conv3x3(x) with weight [C, 9C]; `col` [R, 9C] receives the unfolded input (kept by the
/// caller for the backward). Overwrites y.
package func conv3x3Forward(
  _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, col: UnsafeMutablePointer<Float>,
  _ y: UnsafeMutablePointer<Float>, batch B: Int, height H: Int, width W: Int, channels C: Int,
  threads: Int = 1, workspace: GemmWorkspace? = nil
) {
  conv3x3Unfold(x, col, batch: B, height: H, width: W, channels: C, threads: threads)
  let R = B * H * W
  gemm(
    transA: false, transB: true, m: R, n: C, k: 9 * C, a: col, lda: 9 * C, b: weight, ldb: 9 * C,
    accumulate: false, c: y, ldc: C, threads: threads, workspace: workspace)
}

/// Backward of `conv3x3Forward`: dweight += dyᵀ · col (if given); dx += unfold(dy) · W̃ᵀ (if
/// given), the same convolution run backwards: W̃[c, t·C + o] = weight[o, (8 − t)·C + c] (taps
/// mirrored, channels transposed), one GEMM with k = 9C like the forward's instead of a k = C
/// product into a 9C-wide buffer and a fold. `scratch` [R, 9C] holds unfold(dy).
package func conv3x3Backward(
  dy: UnsafePointer<Float>, weight: UnsafePointer<Float>, col: UnsafePointer<Float>,
  dx: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?, scratch: UnsafeMutablePointer<Float>,
  batch B: Int, height H: Int, width W: Int, channels C: Int, threads: Int = 1, workspace: GemmWorkspace? = nil
) {
  let R = B * H * W
  if let dweight {
    gemm(
      transA: true, transB: false, m: C, n: 9 * C, k: R, a: dy, lda: C, b: col, ldb: 9 * C,
      accumulate: true, c: dweight, ldc: 9 * C, threads: threads, workspace: workspace)
  }
  if let dx {
    let mirrored = allocateFloats(9 * C * C)
    defer { deallocateFloats(mirrored) }
    for c in 0..<C {
      for t in 0..<9 {
        for o in 0..<C { mirrored[c * 9 * C + t * C + o] = weight[o * 9 * C + (8 - t) * C + c] }
      }
    }
    conv3x3Unfold(dy, scratch, batch: B, height: H, width: W, channels: C, threads: threads)
    gemm(
      transA: false, transB: true, m: R, n: C, k: 9 * C, a: scratch, lda: 9 * C, b: mirrored, ldb: 9 * C,
      accumulate: true, c: dx, ldc: C, threads: threads, workspace: workspace)
  }
}

// MARK: - Naive twins (tests, KernelBench)

/// Direct seven-loop convolution, accumulated in Double: the reference for `conv3x3Forward`.
package func conv3x3ForwardNaive(
  _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
  batch B: Int, height H: Int, width W: Int, channels C: Int
) {
  for b in 0..<B {
    for i in 0..<H {
      for j in 0..<W {
        for o in 0..<C {
          var s = 0.0
          for t in 0..<9 {
            let ii = i + t / 3 - 1, jj = j + t % 3 - 1
            if ii < 0 || ii >= H || jj < 0 || jj >= W { continue }
            for c in 0..<C { s += Double(weight[o * 9 * C + t * C + c]) * Double(x[((b * H + ii) * W + jj) * C + c]) }
          }
          y[((b * H + i) * W + j) * C + o] = Float(s)
        }
      }
    }
  }
}

/// Direct backward (scatter form), accumulated in Double: dx += ∂, dweight += ∂.
package func conv3x3BackwardNaive(
  dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
  dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>,
  batch B: Int, height H: Int, width W: Int, channels C: Int
) {
  var gx = [Double](repeating: 0, count: B * H * W * C), gw = [Double](repeating: 0, count: 9 * C * C)
  for b in 0..<B {
    for i in 0..<H {
      for j in 0..<W {
        for o in 0..<C {
          let g = Double(dy[((b * H + i) * W + j) * C + o])
          for t in 0..<9 {
            let ii = i + t / 3 - 1, jj = j + t % 3 - 1
            if ii < 0 || ii >= H || jj < 0 || jj >= W { continue }
            for c in 0..<C {
              let xi = ((b * H + ii) * W + jj) * C + c
              gx[xi] += g * Double(weight[o * 9 * C + t * C + c])
              gw[o * 9 * C + t * C + c] += g * Double(x[xi])
            }
          }
        }
      }
    }
  }
  for k in gx.indices { dx[k] += Float(gx[k]) }
  for k in gw.indices { dweight[k] += Float(gw[k]) }
}

// MARK: - Depthwise 3×3 convolution (one 3×3 filter per channel)
//
// x, y: [B, H·W, C]; weight [9, C] tap-major (tap t = (di + 1)·3 + (dj + 1)), so every tap is
// a contiguous channel vector: y[cell, :] = Σ_t weight[t, :] ⊙ x[cell + offset_t, :].

/// Depthwise forward, overwrites y. Parallel over grid rows.
package func depthwise3x3Forward(
  _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
  batch B: Int, height H: Int, width W: Int, channels C: Int, threads: Int = 1
) {
  let px = SendablePointer(x), pw = SendablePointer(weight), py = SendablePointer(y)
  parallelFor(B * H, threads: B * H * W * C < 1 << 14 ? 1 : threads) { bi in
    let b = bi / H, i = bi % H
    for j in 0..<W {
      let out = py.p + ((b * H + i) * W + j) * C
      out.update(repeating: 0, count: C)
      for t in 0..<9 {
        let ii = i + t / 3 - 1, jj = j + t % 3 - 1
        if ii < 0 || ii >= H || jj < 0 || jj >= W { continue }
        mulAccumulate(pw.p + t * C, px.p + ((b * H + ii) * W + jj) * C, out, C)
      }
    }
  }
}

/// Depthwise backward: dx += Σ_t weight[t] ⊙ dy[cell − offset_t] (gather, parallel over grid
/// rows); dweight[t] += Σ_cells x[cell + offset_t] ⊙ dy[cell] (parallel over the 9 taps).
package func depthwise3x3Backward(
  dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
  dx: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?,
  batch B: Int, height H: Int, width W: Int, channels C: Int, threads: Int = 1
) {
  let pdy = SendablePointer(dy), px = SendablePointer(x), pw = SendablePointer(weight)
  let small = B * H * W * C < 1 << 14
  if let dx {
    let pdx = SendablePointer(dx)
    parallelFor(B * H, threads: small ? 1 : threads) { bi in
      let b = bi / H, i = bi % H
      for j in 0..<W {
        let out = pdx.p + ((b * H + i) * W + j) * C
        for t in 0..<9 {
          let si = i - (t / 3 - 1), sj = j - (t % 3 - 1)
          if si < 0 || si >= H || sj < 0 || sj >= W { continue }
          mulAccumulate(pw.p + t * C, pdy.p + ((b * H + si) * W + sj) * C, out, C)
        }
      }
    }
  }
  if let dweight {
    let pdw = SendablePointer(dweight)
    parallelFor(9, threads: small ? 1 : threads) { t in
      let di = t / 3 - 1, dj = t % 3 - 1
      for b in 0..<B {
        for i in max(0, -di)..<min(H, H - di) {
          for j in max(0, -dj)..<min(W, W - dj) {
            mulAccumulate(
              px.p + ((b * H + i + di) * W + j + dj) * C, pdy.p + ((b * H + i) * W + j) * C, pdw.p + t * C, C)
          }
        }
      }
    }
  }
}

/// Direct depthwise forward in Double: the reference twin.
package func depthwise3x3ForwardNaive(
  _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
  batch B: Int, height H: Int, width W: Int, channels C: Int
) {
  for b in 0..<B {
    for i in 0..<H {
      for j in 0..<W {
        for c in 0..<C {
          var s = 0.0
          for t in 0..<9 {
            let ii = i + t / 3 - 1, jj = j + t % 3 - 1
            if ii < 0 || ii >= H || jj < 0 || jj >= W { continue }
            s += Double(weight[t * C + c]) * Double(x[((b * H + ii) * W + jj) * C + c])
          }
          y[((b * H + i) * W + j) * C + c] = Float(s)
        }
      }
    }
  }
}
