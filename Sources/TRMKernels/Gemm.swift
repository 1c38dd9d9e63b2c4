import CTRMKernels
import Dispatch

// MARK: - Dimension glossary
// M rows of C, N columns of C, K the reduction length. Row-major everywhere.
// op(A) is M x K: A itself (lda >= K) or, when transA, the transpose of a K x M matrix (lda >= M).
// op(B) is K x N: B itself (ldb >= N) or, when transB, the transpose of an N x K matrix (ldb >= K).

/// Instruction-set variant of the C micro-kernels.
public enum KernelISA: Int32, CaseIterable, Sendable, CustomStringConvertible {
  case portable = 0, avx2 = 1, avx512 = 2

  /// The best variant this CPU supports.
  public static let best: KernelISA = KernelISA(rawValue: Int32(trm_best_isa())) ?? .portable
  /// Whether this CPU can run the variant.
  public var isSupported: Bool { trm_isa_supported(Int32(rawValue)) != 0 }
  /// Variants this CPU can run.
  public static var supported: [KernelISA] { allCases.filter(\.isSupported) }
  public var description: String {
    switch self {
    case .portable: return "portable"
    case .avx2: return "avx2+fma"
    case .avx512: return "avx512f+fma"
    }
  }
}

/// Cache blocking of the GEMM driver. `mc` must be a multiple of every register-tile height
/// (4, 6, 8) and `nc` of every width (16, 32).
package enum GemmBlocking {
  package static let mc = 192
  package static let nc = 512
  package static let kc = 256
}

/// C[M x N] = alpha * op(A) * op(B) (+ C when `accumulate`).
///
/// op(B) is packed once into kc x NR panels (parallel over panels) and shared by all workers;
/// A is read in place by the C micro-kernel (only ragged edge panels are copied), register-tiled
/// MR x NR, parallel over (mc x nc) output blocks. The reduction order of every output element
/// does not depend on `threads`, so results are bit-identical for any thread count.
public func gemm(
  transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
  accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int,
  threads: Int = 1, isa: KernelISA = .best, workspace: GemmWorkspace? = nil
) {
  precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m=\(m) n=\(n) k=\(k)")
  precondition(ldc >= n, "gemm: ldc \(ldc) < n \(n)")
  precondition(lda >= (transA ? m : k), "gemm: lda \(lda) too small")
  precondition(ldb >= (transB ? k : n), "gemm: ldb \(ldb) too small")
  if m == 0 || n == 0 { return }
  if k == 0 {
    if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
    return
  }
  let kern = trm_gemm_kernel_for(Int32(isa.rawValue))
  let mr = Int(kern.mr), nr = Int(kern.nr)
  let mc = GemmBlocking.mc, kc = GemmBlocking.kc
  // Output blocks only set the parallel grain (B is packed once, A read in place), so narrow
  // the column blocks when there would be fewer than two blocks per worker.
  var nc = GemmBlocking.nc
  let mBlocksFull = (m + mc - 1) / mc
  if threads > 1 && mBlocksFull * ((n + nc - 1) / nc) < 2 * threads {
    let want = (2 * threads + mBlocksFull - 1) / mBlocksFull
    nc = max(nr, ((n + want - 1) / want + nr - 1) / nr * nr)
  }
  let nPanels = (n + nr - 1) / nr
  let pa = SendablePointer(a), pb = SendablePointer(b), pc = SendablePointer(c)

  // 1. Pack all of op(B): block (p0, panel jp) lives at p0 * nPanels * nr + jp * kw * nr.
  let owned = workspace == nil ? UnsafeMutablePointer<Float>.allocate(capacity: k * nPanels * nr) : nil
  defer { owned?.deallocate() }
  let bPack = owned ?? workspace!.buffer(capacity: k * nPanels * nr)
  let pbp = SendablePointer(bPack)
  let panelsPerTask = max(1, nPanels / max(1, threads * 4))
  let packTasks = (nPanels + panelsPerTask - 1) / panelsPerTask
  parallelFor(packTasks, threads: m * n * k < 1 << 18 ? 1 : threads) { t in
    let jp0 = t * panelsPerTask, jp1 = min(nPanels, jp0 + panelsPerTask)
    var p0 = 0
    while p0 < k {
      let kw = min(kc, k - p0)
      for jp in jp0..<jp1 {
        packB(
          pb.p, ldb: ldb, trans: transB, p0: p0, kw: kw, j0: jp * nr, nw: min(nr, n - jp * nr), nr: nr,
          into: pbp.p + p0 * nPanels * nr + jp * kw * nr)
      }
      p0 += kw
    }
  }

  // 2. Output blocks.
  let mBlocks = (m + mc - 1) / mc, nBlocks = (n + nc - 1) / nc
  let rsa = transA ? 1 : lda, csa = transA ? lda : 1
  parallelFor(mBlocks * nBlocks, threads: m * n * k < 1 << 18 ? 1 : threads) { task in
    let ib = task % mBlocks, jb = task / mBlocks
    let i0 = ib * mc, mw = min(mc, m - i0)
    let j0 = jb * nc, nw = min(nc, n - j0)
    let jpFirst = j0 / nr, jpCount = (nw + nr - 1) / nr
    let mPanels = (mw + mr - 1) / mr
    let edge = UnsafeMutablePointer<Float>.allocate(capacity: mr * kc)
    defer { edge.deallocate() }
    var p0 = 0
    while p0 < k {
      let kw = min(kc, k - p0)
      let acc: Int32 = (accumulate || p0 > 0) ? 1 : 0
      let bBlock = pbp.p + p0 * nPanels * nr
      for ip in 0..<mPanels {
        let row = i0 + ip * mr
        let mEff = min(mr, m - row)
        var aPtr = pa.p + (transA ? p0 * lda + row : row * lda + p0)
        var rs = rsa, cs = csa
        if mEff < mr {
          packA(pa.p, lda: lda, trans: transA, i0: row, mw: mEff, p0: p0, kw: kw, mr: mr, into: edge)
          aPtr = edge
          rs = 1
          cs = mr
        }
        for jp in jpFirst..<(jpFirst + jpCount) {
          let nEff = min(nr, n - jp * nr)
          kern.kernel(
            Int32(kw), aPtr, rs, cs, bBlock + jp * kw * nr, pc.p + row * ldc + jp * nr, ldc,
            Int32(mEff), Int32(nEff), alpha, acc)
        }
      }
      p0 += kw
    }
  }
}

/// A reusable packing buffer for `gemm`, so that repeated calls do not map fresh pages (large
/// allocations go to mmap and are zero-filled by the kernel on every call). Not thread-safe:
/// one `gemm` at a time per workspace. Owned by the caller (e.g. a training loop's buffer pool).
public final class GemmWorkspace: @unchecked Sendable {
  private var storage: UnsafeMutablePointer<Float>?
  private var capacity = 0
  public init() {}
  deinit { storage?.deallocate() }
  func buffer(capacity n: Int) -> UnsafeMutablePointer<Float> {
    if n > capacity {
      storage?.deallocate()
      storage = UnsafeMutablePointer<Float>.allocate(capacity: n)
      capacity = n
    }
    return storage!
  }
}

/// Packs rows i0..<i0+mw, columns p0..<p0+kw of op(A) into MR-row panels, k-major, zero-padded.
@inline(__always)
private func packA(
  _ a: UnsafeMutablePointer<Float>, lda: Int, trans: Bool, i0: Int, mw: Int,
  p0: Int, kw: Int, mr: Int, into dst: UnsafeMutablePointer<Float>
) {
  var d = dst
  var i = 0
  while i < mw {
    let rows = min(mr, mw - i)
    if trans {
      // op(A)(r, k) = a[k * lda + r]: each k gives `rows` contiguous floats.
      for kk in 0..<kw {
        let src = a + (p0 + kk) * lda + i0 + i
        for r in 0..<rows { d[r] = src[r] }
        for r in rows..<mr { d[r] = 0 }
        d += mr
      }
    } else {
      // Row-wise reads (contiguous in k), scattered into the small L1-resident panel.
      for r in 0..<rows {
        let src = a + (i0 + i + r) * lda + p0
        for kk in 0..<kw { d[kk * mr + r] = src[kk] }
      }
      if rows < mr { for kk in 0..<kw { for r in rows..<mr { d[kk * mr + r] = 0 } } }
      d += kw * mr
    }
    i += mr
  }
}

/// Packs rows p0..<p0+kw, columns j0..<j0+nw of op(B) into NR-column panels, zero-padded.
@inline(__always)
private func packB(
  _ b: UnsafeMutablePointer<Float>, ldb: Int, trans: Bool, p0: Int, kw: Int,
  j0: Int, nw: Int, nr: Int, into dst: UnsafeMutablePointer<Float>
) {
  var d = dst
  var j = 0
  while j < nw {
    let cols = min(nr, nw - j)
    if trans {
      // op(B)(k, c) = b[c * ldb + k]
      for c in 0..<cols {
        let src = b + (j0 + j + c) * ldb + p0
        for kk in 0..<kw { d[kk * nr + c] = src[kk] }
      }
      if cols < nr { for kk in 0..<kw { for c in cols..<nr { d[kk * nr + c] = 0 } } }
      d += kw * nr
    } else {
      for kk in 0..<kw {
        let src = b + (p0 + kk) * ldb + j0 + j
        d.update(from: src, count: cols)
        for c in cols..<nr { d[c] = 0 }
        d += nr
      }
    }
    j += nr
  }
}

/// The naive twin of `gemm`: a triple loop accumulating in Double. Used by tests and benchmarks
/// to verify the fast kernel.
public func gemmReference(
  transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
  accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int
) {
  for i in 0..<m {
    for j in 0..<n {
      var s = 0.0
      for p in 0..<k {
        let av = transA ? a[p * lda + i] : a[i * lda + p]
        let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
        s += Double(av) * Double(bv)
      }
      let v = Float(Double(alpha) * s)
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + v : v
    }
  }
}

// MARK: - Machine peak

/// The measured single-thread FMA peak of this CPU in GFLOP/s at the best ISA: 16 independent
/// vector FMA chains in registers, best of `repeats` timed runs of about 20 ms. Benchmarks print
/// their figures also as a share of it, so numbers from different machines compare.
public func measuredFMAPeakGflops(isa: KernelISA = .best, repeats: Int = 5) -> Double {
  var flops = 0
  var iters = 1 << 16
  var best = Double.infinity
  var sink: Float = 0
  // Calibrate to ~20 ms, then keep the fastest run.
  while true {
    let t0 = DispatchTime.now().uptimeNanoseconds
    sink += trm_fma_peak_loop(Int32(isa.rawValue), iters, &flops)
    let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    if dt > 0.02 || iters > 1 << 30 { best = dt; break }
    iters *= 2
  }
  for _ in 0..<repeats {
    let t0 = DispatchTime.now().uptimeNanoseconds
    sink += trm_fma_peak_loop(Int32(isa.rawValue), iters, &flops)
    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
  }
  precondition(!sink.isNaN, "FMA peak probe produced NaN")
  return Double(flops) / best / 1e9
}
