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
  /// The widest product given the SwiGLU row epilogue (`GemmEpilogue.swigluRows`) while
  /// training. `KernelBench --swiglu-rows M,N,K`, against the product then a separate
  /// SwiGLU pass (Xeon, alternating, best of 7; 1 thread, as each micro-batch runs): the sudoku9
  /// shapes 2624×1024×128 1.03–1.08×, 4096×512×82 1.07–1.08×; D = 256, 2624×2048×256: 0.96–0.99×
  /// (its 192×2048 block of C no longer stays in L2 for the epilogue; 0.76× at 2 threads), so
  /// wider products take the separate pass.
  package static let rowEpilogueMaxColumns = 1024
  /// Whether an N-column product over K gets the SwiGLU row epilogue rather than the product then
  /// a separate pass: N within `rowEpilogueMaxColumns`, and K within one k block (the epilogue
  /// sums K in one pass; beyond kc that would change the bits against the blocked product).
  package static func usesSwiGLURowEpilogue(n: Int, k: Int) -> Bool { n <= rowEpilogueMaxColumns && k <= kc }
  /// Rows of op(A) at or below which a row-major B is read in place instead of packed.
  package static let inPlaceBRows = 1024
  /// Outputs (m·n) at or below which a long reduction is split into chunks of k.
  package static let splitOutputs = 1 << 17
  /// Target k length of one chunk, and the most chunks.
  package static let splitChunk = 2048
  package static let maxChunks = 8

  /// Whether the tasks of a product pack their own (kc x nc) blocks of op(B) as they go, into a
  /// buffer that stays in L2, each block then used for all the row blocks of the task (BLIS's loop
  /// order), rather than all of op(B) being packed into memory up front, shared, and read back by
  /// every row block. Both give the same bits (same products, same order). Per task:
  /// - with one block of rows (`m` ≤ mc), where no other task would reuse a packed block;
  /// - with a long reduction (`k` ≥ 1024) and more than 2 MiB of B (`bFloats`), where the shared
  ///   copy no longer fits in cache. Where B is read in place (nothing to pack but the ragged
  ///   panel), only on one thread: its k block is then read from memory once for all the row
  ///   blocks instead of once per block; on two threads the groups of row blocks it needs lost
  ///   4–15% (1536×256×5248, 1024×256×20736 Aᵀ). Shorter sums keep each task's C block in L2
  ///   across all of k instead, which wins there.
  /// Measured in one process, alternating, best of 5–7 (Xeon; GFLOP/s at 1 / 2 threads, up front
  /// → per task): 128×512×2624 Aᵀ 142 → 165 / 216 → 276; 82×512×4096 Aᵀ 134 → 141 / 225 → 275;
  /// 2048×512×20736 Aᵀ 113–127 → 154–157 / 236–261 → 276–289; 512×2048×20736 Aᵀ 124–127 → 154–158
  /// / 225–247 → 258–279; 1024³ 173–180 → 184–187 / 312 → 324; B in place, 1 thread:
  /// 1024×256×20736 Aᵀ 101 → 127, 256×1024×20736 Aᵀ 113 → 139, 512×128×5184 Aᵀ 134 → 142.
  package static func packsBPerTask(m: Int, k: Int, bFloats: Int, bInPlace: Bool, threads: Int) -> Bool {
    m <= mc || (k >= 1024 && bFloats > 1 << 19 && (!bInPlace || threads == 1))
  }

  /// Whether a row-major B with `ldb` floats per row, under op(A) with `m` rows, is read in place.
  package static func readsBInPlace(m: Int, ldb: Int) -> Bool { m <= inPlaceBRows && ldb < 512 && ldb % 16 == 0 }

  /// Whether a weight-gradient product C[m×n] = Aᵀ·B over k rows (A: k×m, B: k×n, both dense)
  /// runs faster as Cᵀ = Bᵀ·A. Chosen from both orientations timed on the presets' shapes
  /// (`KernelBench --shape m,n,k,ta`, Xeon, 1 and 2 threads, alternating; results README). The
  /// k-long second operand is either read in place or packed whole, and a packed copy past
  /// 16 MiB costs about as much as the product (128×512×20736: 63 → 117 GFLOP/s transposed,
  /// where B is read in place; at k = 2624 packing wins, 142 vs 136):
  /// - both read in place: the orientation with fewer output rows (352×64×1792: 98 → 135);
  /// - only the given one: transposed when the given output is at most 128 columns (4 register
  ///   tiles) wide — each packed block of Aᵀ then serves too few column panels — and the other
  ///   copy stays within 64 MiB (1,024×128×2624: 125–130 → 155–161 at 1 thread, 218 → 251–260
  ///   at 2; 512×128×2624, 1024×64×2624, 768×128×2624, 512×64×20736: 1.03–1.40×; at n = 256 the
  ///   transposed one loses at 2 threads, 0.76–0.82×; at 1024×128×20736, an 85 MiB copy, 1.08× at
  ///   1 thread but 0.83× at 2), else as given;
  /// - only the transposed one: transposed when the given one would pack more than 16 MiB;
  /// - neither: the smaller packed copy when the given one passes 16 MiB (512×2048×5184: 87 →
  ///   133), else transposed only when B's rows are not whole register tiles and the other copy
  ///   stays within 16 MiB (512×82×4096: 101 → 126; ×16384: 88 → 44).
  package static func computesTransposed(m: Int, n: Int, k: Int) -> Bool {
    let given = readsBInPlace(m: m, ldb: n), flipped = readsBInPlace(m: n, ldb: m)
    let limit = 4 << 20  // floats: 16 MiB
    switch (given, flipped) {
    case (true, true): return m > n
    case (true, false): return n <= 128 && k * m <= 4 * limit
    case (false, true): return k * n > limit
    case (false, false): return k * n > limit ? m < n : n % 32 != 0 && k * m <= limit
    }
  }
}

/// What `gemm` does with its products: nothing, or a SwiGLU on each register tile or on each
/// finished block of rows.
public enum GemmEpilogue: Equatable {
  /// C = alpha * op(A) * op(B) (+ C when accumulating).
  case none
  /// op(B) has N = 2H columns [gate | up] and C has H: C = silu(op(A)·gate) ⊙ (op(A)·up), the
  /// fused SwiGLU projection, with no 2H-wide intermediate in memory. B is packed so that each
  /// register tile holds NR/2 gate columns and the matching NR/2 up columns; the whole reduction
  /// runs in one pass (kc = K) before the tile becomes outputs. Needs alpha 1, no accumulation.
  case swiglu
  /// C (N columns [gate | up], ldc = N) is the pre-activation, which the SwiGLU backward needs;
  /// as each block of rows is finished, still in cache, its SwiGLU goes to the same rows of
  /// `output` (N/2 columns, rows contiguous) — no second pass over C from memory.
  case swigluRows(output: UnsafeMutablePointer<Float>)
  /// Whether the whole sum runs in one pass (kc = K) before outputs are final: the SwiGLU
  /// epilogues. Needs alpha 1, no accumulation.
  var needsWholeSum: Bool {
    if case .none = self { return false }
    return true
  }
}

extension GemmEpilogue: @unchecked Sendable {}

/// Which way round `gemm` computes a weight-gradient product C = Aᵀ·B (transA, not transB).
public enum GemmOrientation: Sendable {
  /// By shape (`GemmBlocking.computesTransposed`).
  case automatic
  /// C = Aᵀ·B as asked.
  case asGiven
  /// Cᵀ = Bᵀ·A into a scratch matrix (holding Cᵀ first when accumulating), then transposed into C.
  /// Every element gets the same fused multiply-adds in the same order as `asGiven`, so the
  /// bits are equal; only the memory traffic differs.
  case transposed
}

/// C[M x N] = alpha * op(A) * op(B) (+ C when `accumulate`), or with `epilogue: .swiglu`
/// C[M x N/2] = SwiGLU(op(A) * op(B)).
///
/// op(B) is packed into kc x NR panels: once, up front, shared by all workers, or — with one
/// block of rows, or a long sum over a large B — by each task for its own (kc x nc) block as it
/// goes, used for all the task's row blocks (`GemmBlocking.packsBPerTask`); when op(A) has few
/// rows a row-major B is read in place instead. A is read in place by the C micro-kernel (only
/// ragged edge panels and transposed A, whose strided reads thrash L1, are copied into an MR-row
/// panel), register-tiled MR x NR, parallel over groups of (mc x nc) output blocks and, for small
/// outputs with long sums, over fixed chunks of k. The reduction order of
/// every output element depends only on the shape, never on `threads`, so results are
/// bit-identical for any thread count.
public func gemm(
  transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
  accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int,
  threads: Int = 1, isa: KernelISA = .best, workspace: GemmWorkspace? = nil, epilogue: GemmEpilogue = .none,
  orientation: GemmOrientation = .automatic
) {
  let weightGradient = transA && !transB && epilogue == .none && ldc == n && m > 0 && n > 0 && k > 0
  let flip: Bool
  switch orientation {
  case .automatic: flip = weightGradient && GemmBlocking.computesTransposed(m: m, n: n, k: k)
  case .asGiven: flip = false
  case .transposed: flip = weightGradient
  }
  if flip {
    let owned = workspace == nil ? allocateFloats(m * n) : nil
    defer { owned.map(deallocateFloats) }
    let t = owned ?? workspace!.transposedBuffer(capacity: m * n)
    if accumulate { transposeLast2(c, t, batch: 1, rows: m, cols: n, accumulate: false, threads: threads, isa: isa) }
    gemmDriver(
      transA: true, transB: false, m: n, n: m, k: k, alpha: alpha, a: b, lda: ldb, b: a, ldb: lda,
      accumulate: accumulate, c: t, ldc: m, threads: threads, isa: isa, workspace: workspace, epilogue: .none)
    transposeLast2(t, c, batch: 1, rows: n, cols: m, accumulate: false, threads: threads, isa: isa)
    return
  }
  gemmDriver(
    transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
    accumulate: accumulate, c: c, ldc: ldc, threads: threads, isa: isa, workspace: workspace, epilogue: epilogue)
}

private func gemmDriver(
  transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
  accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int,
  threads: Int, isa: KernelISA, workspace: GemmWorkspace?, epilogue: GemmEpilogue
) {
  // fused: the register-tile SwiGLU (B's gate and up columns paired in each panel); whole: any
  // epilogue, so the sum runs in one pass; rowsOutput: the SwiGLU of each finished block of rows.
  let fused = epilogue == .swiglu, whole = epilogue.needsWholeSum
  precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m=\(m) n=\(n) k=\(k)")
  precondition(
    !whole || ((!fused || n % 2 == 0) && !accumulate && alpha == 1),
    "gemm: the SwiGLU epilogues need an even n, alpha 1, no accumulation")
  let outCols = fused ? n / 2 : n
  var rowsOutput: SendablePointer<Float>?
  if case .swigluRows(let output) = epilogue {
    precondition(n % 2 == 0 && ldc == n, "gemm: the SwiGLU row epilogue needs an even n and ldc = n")
    rowsOutput = SendablePointer(output)
  }
  precondition(ldc >= outCols, "gemm: ldc \(ldc) < \(outCols) output columns")
  precondition(lda >= (transA ? m : k), "gemm: lda \(lda) too small")
  precondition(ldb >= (transB ? k : n), "gemm: ldb \(ldb) too small")
  if m == 0 || n == 0 { return }
  if k == 0 {
    // Empty sums: zeros, whose SwiGLU is silu(0)·0 = 0 too.
    if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: outCols) } }
    return
  }
  let kern = trm_gemm_kernel_for(Int32(isa.rawValue))
  let mr = Int(kern.mr), nr = Int(kern.nr), half = nr / 2
  let mc = GemmBlocking.mc, kc = whole ? k : GemmBlocking.kc
  // Packed B: NR-wide panels; with the SwiGLU epilogue panel jp holds gate columns
  // jp*half..<+half then the same up columns, so the packed width is nPanels * NR.
  let nPanels = fused ? (outCols + half - 1) / half : (n + nr - 1) / nr
  let nSpan = fused ? nPanels * nr : n
  // Small outputs with long sums (weight gradients) have too few output blocks to keep the
  // workers busy, so their k range is split into a fixed number of chunks — fixed by the shape,
  // not by `threads`, so the bits do not depend on the thread count: chunk 0 goes into C, the
  // others into partial buffers that are then added to C in chunk order.
  let kBlocks = (k + kc - 1) / kc
  let wantChunks = !whole && m * n <= GemmBlocking.splitOutputs && k >= 2 * GemmBlocking.splitChunk
    ? min(GemmBlocking.maxChunks, k / GemmBlocking.splitChunk) : 1
  let blocksPerChunk = (kBlocks + wantChunks - 1) / wantChunks
  let kChunks = (kBlocks + blocksPerChunk - 1) / blocksPerChunk
  var nc = GemmBlocking.nc
  let mBlocks = (m + mc - 1) / mc
  // Few rows of A (weight gradients: m is a layer width, k the batch's rows) reuse each packed
  // element of B only m/MR times, too few to pay for the copy: then full NR-column panels of a
  // row-major B are read in place (NR contiguous floats per k, ldb apart) and only the ragged
  // last panel is packed. Only for rows a whole number of cache lines and less than 2 KiB apart:
  // otherwise each 32-float read straddles extra lines, or consecutive k steps fall into a few L1
  // sets and new pages the prefetcher does not follow (Xeon, 1 thread, weight-gradient shapes
  // m×n×k with Aᵀ: 512×82×8192 40 → 74 GFLOP/s packed, 128×512×8192 63 → 99).
  let bInPlace = !whole && !transB && GemmBlocking.readsBInPlace(m: m, ldb: ldb)
  // Small products run on the calling thread.
  let workers = m * n * k < 1 << 18 ? 1 : threads
  let packPerTask = GemmBlocking.packsBPerTask(m: m, k: k, bFloats: k * nSpan, bInPlace: bInPlace, threads: workers)
  // Tasks: groups of row blocks × column blocks × chunks of k. With B packed per task, one group
  // of all the row blocks, unless the workers need more tasks (then each group packs B again);
  // otherwise one row block per group.
  let nBlocksFull = (nSpan + nc - 1) / nc
  let rowGroups = !packPerTask ? mBlocks : workers == 1
    ? 1 : min(mBlocks, max(1, (2 * workers + nBlocksFull * kChunks - 1) / (nBlocksFull * kChunks)))
  // Column blocks only set the parallel grain, so they are narrowed when there would be fewer
  // than two tasks per worker. Not further: each column block of a transposed A packs the same
  // A block again (a 512×128 weight gradient over k = 20736 rows in 8 chunks, 2 threads:
  // 148–187 → 156–241 GFLOP/s once its three row blocks × 8 chunks stopped being narrowed to 64
  // columns).
  if rowsOutput != nil {
    nc = (nSpan + nr - 1) / nr * nr  // every task spans whole rows
  } else if workers > 1 && rowGroups * kChunks * nBlocksFull < 2 * workers {
    let want = (2 * workers + rowGroups * kChunks - 1) / (rowGroups * kChunks)
    nc = max(nr, ((nSpan + want - 1) / want + nr - 1) / nr * nr)
  }
  let pa = SendablePointer(a), pb = SendablePointer(b), pc = SendablePointer(c)
  // Packs rows p0..<p0+kw of panels jps of op(B); panel jp at base + (jp - jpBase) * kw * nr.
  let packPanels = { (p0: Int, kw: Int, jps: Range<Int>, jpBase: Int, base: UnsafeMutablePointer<Float>) in
    for jp in jps {
      let dst = base + (jp - jpBase) * kw * nr
      if fused {
        let cols = min(half, outCols - jp * half)
        packB(pb.p, ldb: ldb, trans: transB, p0: p0, kw: kw, j0: jp * half, cols: cols, width: half, ld: nr, into: dst)
        packB(
          pb.p, ldb: ldb, trans: transB, p0: p0, kw: kw, j0: outCols + jp * half, cols: cols, width: half, ld: nr,
          into: dst + half)
      } else {
        let cols = min(nr, n - jp * nr)
        if bInPlace && cols == nr { continue }
        packB(pb.p, ldb: ldb, trans: transB, p0: p0, kw: kw, j0: jp * nr, cols: cols, width: nr, ld: nr, into: dst)
      }
    }
  }
  // 1. Unless the tasks pack their own blocks of B (`GemmBlocking.packsBPerTask`), all of op(B)
  // is packed once and shared: block (p0, panel jp) at p0 * nPanels * nr + jp * kw * nr.
  let owned = workspace == nil && !packPerTask ? allocateFloats(k * nPanels * nr) : nil
  defer { owned.map(deallocateFloats) }
  let shared = packPerTask ? nil : SendablePointer(owned ?? workspace!.buffer(capacity: k * nPanels * nr))
  if let shared {
    let panelsPerTask = max(1, nPanels / (workers * 4))
    let packTasks = (nPanels + panelsPerTask - 1) / panelsPerTask
    parallelFor(packTasks, threads: workers) { t in
      let jps = (t * panelsPerTask)..<min(nPanels, (t + 1) * panelsPerTask)
      var p0 = 0
      while p0 < k {
        let kw = min(kc, k - p0)
        packPanels(p0, kw, jps, 0, shared.p + p0 * nPanels * nr)
        p0 += kw
      }
    }
  }

  // 2. Tasks: row-block groups × column blocks × chunks of k.
  let nBlocks = (nSpan + nc - 1) / nc
  let partialsOwned = kChunks > 1 && workspace == nil
    ? allocateFloats((kChunks - 1) * m * n) : nil
  defer { partialsOwned.map(deallocateFloats) }
  let partials = SendablePointer(
    kChunks == 1 ? c : partialsOwned ?? workspace!.partialBuffer(capacity: (kChunks - 1) * m * n))
  let rsa = transA ? 1 : lda, csa = transA ? lda : 1
  parallelFor(rowGroups * nBlocks * kChunks, threads: workers) { task in
    let chunk = task / (rowGroups * nBlocks)
    let group = task % rowGroups, jb = (task / rowGroups) % nBlocks
    let kStart = chunk * blocksPerChunk * kc, kEnd = min(k, kStart + blocksPerChunk * kc)
    let out = chunk == 0 ? pc.p : partials.p + (chunk - 1) * m * n
    let ldo = chunk == 0 ? ldc : n
    let accumulateOut = chunk == 0 && accumulate
    let rowBlocks = (group * mBlocks / rowGroups)..<((group + 1) * mBlocks / rowGroups)
    let j0 = jb * nc, nw = min(nc, nSpan - j0)
    let jpFirst = j0 / nr, jpCount = (nw + nr - 1) / nr
    let maxPanels = (min(mc, m) + mr - 1) / mr
    // Transposed A is packed a whole (mc x kc) block at a time, in one pass along its rows;
    // otherwise only a ragged edge panel is.
    let edge = allocateFloats((transA ? maxPanels : 1) * mr * kc)
    // Only the register-tile SwiGLU needs a tile, only per-task packing a B block.
    let tile = fused ? allocateFloats(mr * nr) : nil
    let bLocal = packPerTask ? allocateFloats(kc * jpCount * nr) : nil
    defer {
      deallocateFloats(edge)
      tile.map(deallocateFloats)
      bLocal.map(deallocateFloats)
    }
    var p0 = kStart
    while p0 < kEnd {
      let kw = min(kc, k - p0)
      let acc: Int32 = (accumulateOut || p0 > kStart) ? 1 : 0
      // Panel jp of this k block at bBlock + (jp - jpBase) * kw * nr.
      let bBlock: UnsafeMutablePointer<Float>, jpBase: Int
      if let shared {
        (bBlock, jpBase) = (shared.p + p0 * nPanels * nr, 0)
      } else {
        packPanels(p0, kw, jpFirst..<(jpFirst + jpCount), jpFirst, bLocal!)
        (bBlock, jpBase) = (bLocal!, jpFirst)
      }
      for ib in rowBlocks {
        let i0 = ib * mc, mw = min(mc, m - i0)
        let mPanels = (mw + mr - 1) / mr
        // A transposed would be read 12 floats per k step at a stride of lda (with lda a multiple
        // of 1 KiB every step lands in the same L1 set, and each panel re-walks the same rows), so
        // the block's rows are read once, contiguously, into MR-row panels.
        if transA { packATransposedBlock(pa.p, lda: lda, i0: i0, mw: mw, p0: p0, kw: kw, mr: mr, into: edge) }
        // Columns in sub-blocks of at most nc, so that a task spanning whole rows (the row
        // epilogue) still runs down its row block with one (kc x nc) block of packed B in cache.
        let subPanels = GemmBlocking.nc / nr
        for js in stride(from: jpFirst, to: jpFirst + jpCount, by: subPanels) {
          for ip in 0..<mPanels {
            let row = i0 + ip * mr
            let mEff = min(mr, m - row)
            var aPtr = pa.p + (transA ? p0 * lda + row : row * lda + p0)
            var rs = rsa, cs = csa
            if transA {
              aPtr = edge + ip * kw * mr
              rs = 1
              cs = mr
            } else if mEff < mr {
              packA(pa.p, lda: lda, i0: row, mw: mEff, p0: p0, kw: kw, mr: mr, into: edge)
              aPtr = edge
              rs = 1
              cs = mr
            }
            for jp in js..<min(js + subPanels, jpFirst + jpCount) {
              let panel = bBlock + (jp - jpBase) * kw * nr
              if fused {
                kern.kernel(Int32(kw), aPtr, rs, cs, panel, nr, tile!, nr, Int32(mEff), Int32(nr), 1, 0)
                trm_swiglu_tile(
                  kern.isa, tile!, nr, Int32(mEff), Int32(half), pc.p + row * ldc + jp * half, ldc,
                  Int32(min(half, outCols - jp * half)))
              } else {
                let nEff = min(nr, n - jp * nr)
                let inPlace = bInPlace && nEff == nr
                kern.kernel(
                  Int32(kw), aPtr, rs, cs, inPlace ? pb.p + p0 * ldb + jp * nr : panel, inPlace ? ldb : nr,
                  out + row * ldo + jp * nr, ldo, Int32(mEff), Int32(nEff), alpha, acc)
              }
            }
          }
        }
        // Rows i0..<i0+mw are final (one pass over k, all columns in this task) and in cache.
        if let rowsOutput { trm_swiglu_forward(kern.isa, pc.p + i0 * n, rowsOutput.p + i0 * (n / 2), mw, n / 2) }
      }
      p0 += kw
    }
  }
  if kChunks > 1 {
    let rowsPerTask = max(1, m / (workers * 4))
    parallelFor((m + rowsPerTask - 1) / rowsPerTask, threads: workers) { t in
      for i in (t * rowsPerTask)..<min(m, (t + 1) * rowsPerTask) {
        for chunk in 1..<kChunks { axpy(1, partials.p + (chunk - 1) * m * n + i * n, pc.p + i * ldc, n) }
      }
    }
  }
}

/// A reusable packing buffer for `gemm`, so that repeated calls do not map fresh pages (large
/// allocations go to mmap and are zero-filled by the kernel on every call). Not thread-safe:
/// one `gemm` at a time per workspace. Owned by the caller (e.g. a training loop's buffer pool).
public final class GemmWorkspace: @unchecked Sendable {
  private let packed = GrowableBuffer(), partials = GrowableBuffer(), transposed = GrowableBuffer()
  public init() {}
  /// The scratch Cᵀ of a product computed the other way round (`GemmOrientation.transposed`).
  func transposedBuffer(capacity n: Int) -> UnsafeMutablePointer<Float> { transposed.pointer(capacity: n) }
  /// The packing buffer for op(B).
  func buffer(capacity n: Int) -> UnsafeMutablePointer<Float> { packed.pointer(capacity: n) }
  /// A second buffer, for the partial sums of a k-split product.
  func partialBuffer(capacity n: Int) -> UnsafeMutablePointer<Float> { partials.pointer(capacity: n) }
}

/// Float storage that only grows (reallocated when a larger capacity is asked for).
private final class GrowableBuffer {
  private var storage: UnsafeMutablePointer<Float>?
  private var capacity = 0
  deinit { storage.map(deallocateFloats) }
  func pointer(capacity n: Int) -> UnsafeMutablePointer<Float> {
    if n > capacity {
      storage.map(deallocateFloats)
      storage = allocateFloats(n)
      capacity = n
    }
    return storage!
  }
}

/// Packs rows i0..<i0+mw, columns p0..<p0+kw of a row-major A into MR-row panels, k-major,
/// zero-padded (the ragged edge panel; full panels are read in place).
@inline(__always)
private func packA(
  _ a: UnsafeMutablePointer<Float>, lda: Int, i0: Int, mw: Int,
  p0: Int, kw: Int, mr: Int, into dst: UnsafeMutablePointer<Float>
) {
  var d = dst
  var i = 0
  while i < mw {
    let rows = min(mr, mw - i)
    // Row-wise reads (contiguous in k), scattered into the small L1-resident panel.
    for r in 0..<rows {
      let src = a + (i0 + i + r) * lda + p0
      for kk in 0..<kw { d[kk * mr + r] = src[kk] }
    }
    if rows < mr { for kk in 0..<kw { for r in rows..<mr { d[kk * mr + r] = 0 } } }
    d += kw * mr
    i += mr
  }
}

/// Packs rows i0..<i0+mw, columns p0..<p0+kw of op(A) = Aᵀ (A is K x M, row-major) into MR-row
/// panels, k-major, zero-padded: panel ip at dst + ip * kw * mr. One pass over the kw rows of A,
/// each read as mw contiguous floats.
@inline(__always)
private func packATransposedBlock(
  _ a: UnsafeMutablePointer<Float>, lda: Int, i0: Int, mw: Int, p0: Int, kw: Int, mr: Int,
  into dst: UnsafeMutablePointer<Float>
) {
  let full = mw / mr, rest = mw - full * mr
  for kk in 0..<kw {
    let src = a + (p0 + kk) * lda + i0
    for ip in 0..<full { (dst + ip * kw * mr + kk * mr).update(from: src + ip * mr, count: mr) }
    if rest > 0 {
      let d = dst + full * kw * mr + kk * mr
      d.update(from: src + full * mr, count: rest)
      (d + rest).update(repeating: 0, count: mr - rest)
    }
  }
}

/// Packs rows p0..<p0+kw, columns j0..<j0+cols of op(B) into one panel: `width` floats per k
/// (zero past `cols`), consecutive k rows `ld` floats apart.
@inline(__always)
private func packB(
  _ b: UnsafeMutablePointer<Float>, ldb: Int, trans: Bool, p0: Int, kw: Int,
  j0: Int, cols: Int, width: Int, ld: Int, into d: UnsafeMutablePointer<Float>
) {
  if trans {
    // op(B)(k, c) = b[c * ldb + k]
    for c in 0..<cols {
      let src = b + (j0 + c) * ldb + p0
      for kk in 0..<kw { d[kk * ld + c] = src[kk] }
    }
    if cols < width { for kk in 0..<kw { for c in cols..<width { d[kk * ld + c] = 0 } } }
  } else {
    for kk in 0..<kw {
      let row = d + kk * ld
      row.update(from: b + (p0 + kk) * ldb + j0, count: cols)
      for c in cols..<width { row[c] = 0 }
    }
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
  bestProbeGflops(repeats: repeats) { trm_fma_peak_loop(Int32(isa.rawValue), $0, $1) }
}

/// The same probe with the BF16 dot-product instruction (VDPBF16PS, avx512_bf16), in GFLOP/s
/// counted as the FP32 products and sums it stands for; nil where the CPU lacks it. Next to
/// `measuredFMAPeakGflops` it says whether a BF16 GEMM could be faster on this core (on the
/// 2-core Xeon of the results README it runs at half the FP32 FMA rate, so it could not).
public func measuredBF16DotPeakGflops(repeats: Int = 5) -> Double? {
  var flops = 0
  _ = trm_bf16_dot_peak_loop(1, &flops)
  guard flops > 0 else { return nil }
  return bestProbeGflops(repeats: repeats) { trm_bf16_dot_peak_loop($0, $1) }
}

/// GFLOP/s of a probe loop `(iterations, flops out) -> sink`: calibrated to about 20 ms, then the
/// fastest of `repeats` timed runs.
func bestProbeGflops(repeats: Int, _ loop: (Int, UnsafeMutablePointer<Int>) -> Float) -> Double {
  let calibration = calibratedProbe(seconds: 0.02, loop)
  var flops = calibration.flops, best = calibration.seconds, sink = calibration.sink
  for _ in 0..<repeats {
    let t0 = DispatchTime.now().uptimeNanoseconds
    sink += loop(calibration.iters, &flops)
    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
  }
  precondition(!sink.isNaN, "peak probe produced NaN")
  return Double(flops) / best / 1e9
}

/// The FMA peak per core while `threads` cores run the same loop at once: what a step on
/// `threads` threads can reach at best. Below the one-core figure where the cores slow down
/// when all run AVX-512, or where two virtual CPUs share one physical core's FMA units.
/// Each round times every thread's own run; the round's rate per core is its slowest thread's;
/// best of `repeats` rounds of about 50 ms.
public func measuredConcurrentFMAPeakGflops(threads: Int, isa: KernelISA = .best, repeats: Int = 5) -> Double {
  let n = max(1, threads)
  // Calibrated on one thread to ~50 ms, long enough for the threads' runs to overlap.
  let (iters, flops, _, _) = calibratedProbe(seconds: 0.05) { trm_fma_peak_loop(Int32(isa.rawValue), $0, $1) }
  var seconds = [Double](repeating: 0, count: n), sinks = [Float](repeating: 0, count: n)
  var best = 0.0
  for _ in 0..<repeats {
    seconds.withUnsafeMutableBufferPointer { sec in
      sinks.withUnsafeMutableBufferPointer { sink in
        let s = SendablePointer(sec.baseAddress!), k = SendablePointer(sink.baseAddress!)
        parallelFor(n, threads: n) { t in
          var f = 0
          let t0 = DispatchTime.now().uptimeNanoseconds
          k.p[t] += trm_fma_peak_loop(Int32(isa.rawValue), iters, &f)
          s.p[t] = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        }
      }
    }
    best = max(best, Double(flops) / seconds.max()! / 1e9)
  }
  precondition(!sinks.contains { $0.isNaN }, "FMA peak probe produced NaN")
  return best
}

/// The probe loop's iteration count (doubled from 2¹⁶) whose run on one core first takes more than
/// `seconds`, with that run's flops, time and result.
func calibratedProbe(
  seconds: Double, _ loop: (Int, UnsafeMutablePointer<Int>) -> Float
) -> (iters: Int, flops: Int, seconds: Double, sink: Float) {
  var iters = 1 << 16, flops = 0
  while true {
    let t0 = DispatchTime.now().uptimeNanoseconds
    let sink = loop(iters, &flops)
    let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    if dt > seconds || iters > 1 << 30 { return (iters, flops, dt, sink) }
    iters *= 2
  }
}
