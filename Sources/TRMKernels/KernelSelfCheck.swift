import TRMRandom

/// Compares every fast row kernel with its naive twin on awkward shapes, for every supported ISA
/// and for 1 and 2 threads. Returns one message per mismatch (empty when all agree).
/// Used by the kernel benchmark (before timing) and by the tests.
package func verifyRowKernels(
  shapes: [(rows: Int, width: Int)] = [(1, 1), (3, 17), (17, 63), (63, 129), (129, 3), (700, 129)]
) -> [String] {
  var failures: [String] = []
  func rand(_ n: Int, _ seed: UInt64, scale: Float = 2) -> [Float] {
    var g = SplitMix64(seed: seed)
    return (0..<n).map { _ in (g.nextFloat() - 0.5) * 2 * scale }
  }
  func cmp(_ name: String, _ a: [Float], _ b: [Float], tol: Float) {
    precondition(a.count == b.count)
    var worst: Float = 0, at = 0
    for i in 0..<a.count {
      let e = abs(a[i] - b[i]) / max(1, abs(b[i]))
      if e.isNaN || e > worst { worst = e.isNaN ? .infinity : e; at = i }
    }
    if worst > tol { failures.append("\(name): max rel err \(worst) at \(at) (got \(a[at]), want \(b[at]))") }
  }
  for isa in KernelISA.supported {
    for (rows, width) in shapes {
      let tag = "[\(isa) \(rows)x\(width)]"
      // SwiGLU forward/backward
      let gu = rand(rows * 2 * width, 1, scale: 6), dout = rand(rows * width, 2)
      var o1 = [Float](repeating: 0, count: rows * width), o2 = o1
      var ref = o1
      swigluForward(gu, &o1, rows: rows, width: width, threads: 1, isa: isa)
      swigluForward(gu, &o2, rows: rows, width: width, threads: 2, isa: isa)
      swigluForwardReference(gu, &ref, rows: rows, width: width)
      cmp("swiglu.fwd\(tag)", o1, ref, tol: 2e-6)
      if o1 != o2 { failures.append("swiglu.fwd\(tag): 1 and 2 threads differ") }
      var d1 = rand(rows * 2 * width, 3), d2 = d1, dr = d1
      swigluBackward(gu, dout, &d1, rows: rows, width: width, threads: 1, isa: isa)
      swigluBackward(gu, dout, &d2, rows: rows, width: width, threads: 2, isa: isa)
      swigluBackwardReference(gu, dout, &dr, rows: rows, width: width)
      cmp("swiglu.bwd\(tag)", d1, dr, tol: 5e-6)
      if d1 != d2 { failures.append("swiglu.bwd\(tag): 1 and 2 threads differ") }
      // exp
      let x = rand(rows * width, 4, scale: 80)
      var e1 = [Float](repeating: 0, count: x.count)
      vexp(x, &e1, x.count, isa: isa)
      cmp(
        "exp\(tag)", e1.map { $0 / max(1, $0) }, x.map { Float(_exp(Double($0))) / max(1, Float(_exp(Double($0)))) },
        tol: 1e-6)
      // softmax
      var s1 = rand(rows * width, 5, scale: 10), s2 = s1
      softmaxRows(&s1, rows: rows, width: width, isa: isa)
      softmaxRowsReference(&s2, rows: rows, width: width)
      cmp("softmax\(tag)", s1, s2, tol: 2e-6)
    }
  }
  for (rows, width) in shapes {
    let tag = "[\(rows)x\(width)]"
    // RMSNorm
    let x = rand(rows * width, 6)
    var y1 = [Float](repeating: 0, count: rows * width), y2 = y1, yr = y1
    var r1 = [Float](repeating: 0, count: rows), r2 = r1
    rmsNormForward(x, &y1, &r1, rows: rows, width: width, eps: 1e-5, threads: 1)
    rmsNormForward(x, &y2, &r2, rows: rows, width: width, eps: 1e-5, threads: 2)
    rmsNormForwardReference(x, &yr, rows: rows, width: width, eps: 1e-5)
    cmp("rmsnorm.fwd\(tag)", y1, yr, tol: 2e-6)
    if y1 != y2 { failures.append("rmsnorm.fwd\(tag): 1 and 2 threads differ") }
    // Threaded elementwise add
    let addend = rand(rows * width, 10)
    var s1 = y1, s2 = y1
    addForward(x, addend, &s1, rows * width, threads: 1)
    addForward(x, addend, &s2, rows * width, threads: 2)
    if s1 != s2 { failures.append("add\(tag): 1 and 2 threads differ") }
    for i in 0..<s1.count where s1[i] != x[i] + addend[i] { failures.append("add\(tag): wrong at \(i)"); break }
    // Fused residual + RMSNorm
    let xb = addend
    var f1 = y1, f2 = y1, fr = y1, sum = y1
    addRMSNormForward(x, xb, &f1, &r1, rows: rows, width: width, eps: 1e-5, threads: 1)
    addRMSNormForward(x, xb, &f2, &r2, rows: rows, width: width, eps: 1e-5, threads: 2)
    for i in 0..<sum.count { sum[i] = x[i] + xb[i] }
    rmsNormForwardReference(sum, &fr, rows: rows, width: width, eps: 1e-5)
    cmp("addrmsnorm.fwd\(tag)", f1, fr, tol: 2e-6)
    if f1 != f2 { failures.append("addrmsnorm.fwd\(tag): 1 and 2 threads differ") }
  }
  for isa in KernelISA.supported {
    for (rows, width) in shapes + [(8, 8), (16, 24), (33, 41)] {
      // Transpose (plain and accumulating), two matrices in a batch
      let x = rand(2 * rows * width, 8), base = rand(2 * rows * width, 9)
      var t1 = [Float](repeating: 0, count: 2 * rows * width), t2 = t1, tr = t1
      transposeLast2(x, &t1, batch: 2, rows: rows, cols: width, accumulate: false, threads: 1, isa: isa)
      transposeLast2(x, &t2, batch: 2, rows: rows, cols: width, accumulate: false, threads: 2, isa: isa)
      transposeLast2Reference(x, &tr, batch: 2, rows: rows, cols: width)
      if t1 != tr || t2 != tr { failures.append("transpose[\(isa) \(rows)x\(width)]: differs from reference") }
      var a1 = base
      transposeLast2(x, &a1, batch: 2, rows: rows, cols: width, accumulate: true, threads: 2, isa: isa)
      if a1 != zip(base, tr).map({ $0 + $1 }) {
        failures.append("transpose+=[\(isa) \(rows)x\(width)]: differs from reference")
      }
    }
  }
  // Attention (odd lengths, two head sizes, with and without rotary)
  for (batch, length, heads, d) in [(1, 1, 1, 2), (2, 17, 3, 8), (3, 13, 2, 64)] {
    for useRotary in [false, true] {
      let D = heads * d
      let qkv = rand(batch * length * 3 * D, 7)
      let rot = useRotary ? RotaryTables(length: length, headDim: d) : nil
      var o1 = [Float](repeating: 0, count: batch * length * D), o2 = o1, orf = o1
      var p1 = [Float](repeating: 0, count: batch * heads * length * length), p2 = p1
      attentionForward(
        qkv: qkv, out: &o1, probs: &p1, batch: batch, length: length, heads: heads, headDim: d, rotary: rot, threads: 1)
      attentionForward(
        qkv: qkv, out: &o2, probs: &p2, batch: batch, length: length, heads: heads, headDim: d, rotary: rot, threads: 2)
      attentionForwardReference(
        qkv: qkv, out: &orf, batch: batch, length: length, heads: heads, headDim: d, rotary: rot)
      let tag = "[b\(batch) L\(length) h\(heads) d\(d) rope=\(useRotary)]"
      cmp("attention.fwd\(tag)", o1, orf, tol: 1e-5)
      if o1 != o2 { failures.append("attention.fwd\(tag): 1 and 2 threads differ") }
    }
  }
  return failures
}
