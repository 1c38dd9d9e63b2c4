import TRMKernels

// Every differentiable op of TinyRecursion, each with its backward rule next to its forward.
// Backward closures *accumulate* into input gradients. Shapes in comments: R rows (all leading
// axes flattened), B batch, L sequence, D width, V vocabulary.
//
//   op              forward                              backward
//   linear          y = x Wᵀ                             dx += dy W;  dW += dyᵀ x
//   add             y = a + b (b broadcast over leading) da += dy;    db += Σ_rows dy
//   mul             y = a ⊙ b                            da += dy ⊙ b; db += dy ⊙ a
//   scale           y = s a                              da += s dy
//   silu            y = a σ(a)                           da += dy (σ + a σ (1 − σ))
//   swiglu          y = silu(g) ⊙ u, [g|u] = last axis   (C kernel)
//   linearSwiGLU    swiglu(linear(x, W)), one GEMM        swiglu's, then linear's
//                   with a SwiGLU epilogue
//   rmsNorm         y = a / √(mean(a²) + ε)              da += r (dy − y mean(dy ⊙ y))
//   addRMSNorm      y = rmsNorm(a + b), fused            da, db += r (dy − y mean(dy ⊙ y))
//   transposeLast2  [.., R, C] → [.., C, R]              transpose back
//   embedding       y[i] = W[ids[i]]                     dW[ids[i]] += dy[i]
//   concat/slice    along axis 1                         copy the matching block
//   reshape         same data, new shape                 same data
//   attention       softmax(QKᵀ/√d) V with rotary        (fused kernel)
//   conv3x3         y = unfold₃ₓ₃(x) Wᵀ on an H×W grid   dW += dyᵀ unfold(x); dx += unfold(dy) W̃ᵀ
//                                                        (W̃: taps mirrored, channels transposed)
//   depthwise3x3    y = Σ_t w[t] ⊙ shift_t(x)           dw[t] += Σ shift_t(x) ⊙ dy;
//                                                        dx += Σ w[t] ⊙ shift₋t(dy)
//   meanAxis1       y[b] = mean_l a[b, l]                da[b, l] += dy[b] / L
//   crossEntropy    per-sequence mean of −log p[label]   (p − 1)-style rows, see kernel
//   bceWithLogits   max(x,0) − x t + log(1 + e^−|x|)     σ(x) − t
//   sum / mean      scalar                               broadcast dy

/// Writes `src` into a gradient target from `Graph.gradTarget`: copied when it is the first
/// gradient, added otherwise.
@inline(__always) private func storeOrAdd(
  _ src: UnsafePointer<Float>, _ target: (pointer: UnsafeMutablePointer<Float>, accumulate: Bool), _ n: Int
) {
  if target.accumulate { axpy(1, src, target.pointer, n) } else { target.pointer.update(from: src, count: n) }
}

extension Graph {
  // MARK: linear

  /// The forward product of the linear ops: x[.., K] · Wᵀ (W [N, K]) with the given epilogue
  /// into a fresh [.., outWidth] tensor.
  private func projection(
    _ x: Tensor, _ w: Tensor, outWidth: Int, epilogue: GemmEpilogue = .none, role: String = "linear fwd"
  ) -> Tensor {
    let K = x.shape.last!, N = w.shape[0], R = x.count / max(K, 1)
    var outShape = x.shape
    outShape[outShape.count - 1] = outWidth
    let y = alloc(outShape)
    profiledGemm(profile, role, m: R, n: N, k: K) {
      gemm(
        transA: false, transB: true, m: R, n: N, k: K, a: x.data, lda: K, b: w.data, ldb: K,
        accumulate: false, c: y.storage.pointer, ldc: outWidth, threads: threads, workspace: pool?.gemmWorkspace,
        epilogue: epilogue)
    }
    return y
  }

  /// Checks x[.., K] against W [N, K] (N even when `swiglu`); returns (rows, K, N).
  private func linearShape(_ x: Var, _ w: Var, op: String, swiglu: Bool = false) -> (rows: Int, k: Int, n: Int) {
    let K = x.shape.last!, N = w.shape[0]
    precondition(w.shape.count == 2 && w.shape[1] == K, "\(op): x \(x.shape) does not match weight \(w.shape)")
    precondition(!swiglu || N % 2 == 0, "\(op): weight rows \(N) are not even")
    return (x.value.count / max(K, 1), K, N)
  }

  /// The backward of y = x Wᵀ (x [R, K], W [N, K]): dx += dy W, dW += dyᵀ x.
  private func linearBackward(_ dy: UnsafePointer<Float>, x: Var, w: Var, rows R: Int, k K: Int, n N: Int) {
    if let dx = gradTarget(for: x) {
      profiledGemm(profile, "linear dx", m: R, n: K, k: N) {
        gemm(
          transA: false, transB: false, m: R, n: K, k: N, a: dy, lda: N, b: w.value.data, ldb: K,
          accumulate: dx.accumulate, c: dx.pointer, ldc: K, threads: threads, workspace: pool?.gemmWorkspace)
      }
    }
    if let dw = gradTarget(for: w) {
      profiledGemm(profile, "linear dW", m: N, n: K, k: R) {
        gemm(
          transA: true, transB: false, m: N, n: K, k: R, a: dy, lda: N, b: x.value.data, ldb: K,
          accumulate: dw.accumulate, c: dw.pointer, ldc: K, threads: threads, workspace: pool?.gemmWorkspace)
      }
    }
  }

  /// y[.., N] = x[.., K] · Wᵀ with W [N, K] (PyTorch `F.linear` layout, no bias).
  public func linear(_ x: Var, _ w: Var) -> Var {
    let (R, K, N) = linearShape(x, w, op: "linear")
    let y = projection(x.value, w.value, outWidth: N)
    return record(y, inputs: [x, w]) { g, dy in g.linearBackward(dy, x: x, w: w, rows: R, k: K, n: N) }
  }

  /// swiglu(linear(x, w)) with w [2I, K] = [gate | up] rows, one GEMM with a SwiGLU epilogue.
  /// When no gradient is recorded, SwiGLU is applied to each register tile
  /// (`GemmEpilogue.swiglu`) and the 2I-wide projection never reaches memory. When recording,
  /// the backward needs that projection: the GEMM writes it and applies SwiGLU to each finished
  /// block of rows while it is still in cache (`GemmEpilogue.swigluRows`) instead of a second
  /// pass over it, where the GEMM says that keeps the bits and is faster
  /// (`GemmBlocking.usesSwiGLURowEpilogue`); otherwise the product then `swigluForward`. Either
  /// way the bits are those of the two separate ops. Recorded as one op whose backward is
  /// SwiGLU's, then the linear's.
  public func linearSwiGLU(_ x: Var, _ w: Var) -> Var {
    let (R, K, N) = linearShape(x, w, op: "linearSwiGLU", swiglu: true)
    guard isRecording && (x.requiresGrad || w.requiresGrad) else {
      let y = projection(x.value, w.value, outWidth: N / 2, epilogue: .swiglu, role: "linear+swiglu fwd")
      return record(y, inputs: [x, w]) { _, _ in preconditionFailure("linearSwiGLU recorded no gradient") }
    }
    var shape = x.shape
    shape[shape.count - 1] = N / 2
    let y = alloc(shape), pre: Tensor
    if GemmBlocking.usesSwiGLURowEpilogue(n: N, k: K) {
      pre = projection(
        x.value, w.value, outWidth: N, epilogue: .swigluRows(output: y.storage.pointer), role: "linear+swiglu rows fwd")
    } else {
      pre = projection(x.value, w.value, outWidth: N)
      swigluForward(pre.data, y.storage.pointer, rows: R, width: N / 2, threads: threads)
    }
    return record(y, inputs: [x, w]) { g, dy in
      let dgu = g.alloc([R, N])
      swigluBackward(pre.data, dy, dgu.storage.pointer, rows: R, width: N / 2, threads: g.threads, accumulate: false)
      g.linearBackward(dgu.data, x: x, w: w, rows: R, k: K, n: N)
    }
  }

  // MARK: add / mul / scale

  /// a + b where b's shape equals a's shape or a suffix of it (broadcast over leading axes).
  public func add(_ a: Var, _ b: Var) -> Var {
    let n = a.value.count, m = b.value.count
    precondition(
      a.shape.count >= b.shape.count && Array(a.shape.suffix(b.shape.count)) == b.shape,
      "add: shape \(b.shape) does not broadcast to \(a.shape)")
    let y = alloc(a.shape)
    let av = a.value, bv = b.value
    if n == m {
      addForward(av.data, bv.data, y.storage.pointer, n, threads: threads)
    } else {
      for r in 0..<(n / max(m, 1)) { addForward(av.data + r * m, bv.data, y.storage.pointer + r * m, m) }
    }
    return record(y, inputs: [a, b]) { g, dy in
      if let da = g.gradTarget(for: a) { storeOrAdd(dy, da, n) }
      if let db = g.gradBuffer(for: b) {
        for r in 0..<(n / max(m, 1)) { axpy(1, dy + r * m, db, m) }
      }
    }
  }

  /// Elementwise product of equal shapes.
  public func mul(_ a: Var, _ b: Var) -> Var {
    precondition(a.shape == b.shape, "mul: shapes \(a.shape) and \(b.shape) differ")
    let n = a.value.count
    let y = alloc(a.shape)
    let av = a.value, bv = b.value
    mulForward(av.data, bv.data, y.storage.pointer, n)
    return record(y, inputs: [a, b]) { g, dy in
      if let da = g.gradBuffer(for: a) { mulAccumulate(dy, bv.data, da, n) }
      if let db = g.gradBuffer(for: b) { mulAccumulate(dy, av.data, db, n) }
    }
  }

  /// s · a for a constant s.
  public func scale(_ a: Var, _ s: Float) -> Var {
    let n = a.value.count
    let y = Tensor(repeating: 0, shape: a.shape, pool: pool)
    axpy(s, a.value.data, y.storage.pointer, n)
    return record(y, inputs: [a]) { g, dy in
      if let da = g.gradBuffer(for: a) { axpy(s, dy, da, n) }
    }
  }

  // MARK: activations

  /// SiLU: a · σ(a).
  public func silu(_ a: Var) -> Var {
    let n = a.value.count
    let y = alloc(a.shape)
    let av = a.value
    let sig = alloc(a.shape)  // σ(a), kept for the backward
    let sp = sig.storage.pointer
    for i in 0..<n { sp[i] = -av[flat: i] }
    vexp(sp, sp, n)
    for i in 0..<n { sp[i] = 1 / (1 + sp[i]); y.storage.pointer[i] = av[flat: i] * sp[i] }
    return record(y, inputs: [a]) { g, dy in
      guard let da = g.gradBuffer(for: a) else { return }
      for i in 0..<n {
        let s = sig[flat: i], x = av[flat: i]
        da[i] += dy[i] * (s + x * s * (1 - s))
      }
    }
  }

  /// SwiGLU: the last axis of `gu` is [gate | up] (width 2I); y = silu(gate) ⊙ up, width I.
  public func swiglu(_ gu: Var) -> Var {
    let w2 = gu.shape.last!
    precondition(w2 % 2 == 0, "swiglu: last axis \(w2) is not even")
    let I = w2 / 2, R = gu.value.count / max(w2, 1)
    var shape = gu.shape
    shape[shape.count - 1] = I
    let y = alloc(shape)
    let gv = gu.value
    swigluForward(gv.data, y.storage.pointer, rows: R, width: I, threads: threads)
    return record(y, inputs: [gu]) { g, dy in
      if let dgu = g.gradTarget(for: gu) {
        swigluBackward(gv.data, dy, dgu.pointer, rows: R, width: I, threads: g.threads, accumulate: dgu.accumulate)
      }
    }
  }

  // MARK: normalization and layout

  /// RMSNorm over the last axis, without a learnable scale: a / √(mean(a²) + eps).
  public func rmsNorm(_ a: Var, eps: Float = 1e-5) -> Var {
    let W = a.shape.last!, R = a.value.count / max(W, 1)
    let y = alloc(a.shape)
    let rstd = alloc([R])
    rmsNormForward(a.value.data, y.storage.pointer, rstd.storage.pointer, rows: R, width: W, eps: eps, threads: threads)
    return record(y, inputs: [a]) { g, dy in
      if let da = g.gradTarget(for: a) {
        rmsNormBackward(
          y.data, rstd.data, dy, da.pointer, rows: R, width: W, threads: g.threads, accumulate: da.accumulate)
      }
    }
  }

  /// rmsNorm(a + b) for equal shapes in one pass (the post-norm residual of every block).
  public func addRMSNorm(_ a: Var, _ b: Var, eps: Float = 1e-5) -> Var {
    precondition(a.shape == b.shape, "addRMSNorm: shapes \(a.shape) and \(b.shape) differ")
    let W = a.shape.last!, R = a.value.count / max(W, 1)
    let y = alloc(a.shape)
    let rstd = alloc([R])
    addRMSNormForward(
      a.value.data, b.value.data, y.storage.pointer, rstd.storage.pointer, rows: R, width: W, eps: eps, threads: threads
    )
    return record(y, inputs: [a, b]) { g, dy in
      // Both inputs get the same gradient: computed once into the first that has no gradient
      // yet, then added to (or copied into) the other.
      let n = a.value.count
      var computed: UnsafePointer<Float>?
      for v in [a, b] {
        guard let dv = g.gradTarget(for: v) else { continue }
        if let c = computed {
          storeOrAdd(c, dv, n)
        } else {
          rmsNormBackward(
            y.data, rstd.data, dy, dv.pointer, rows: R, width: W, threads: g.threads, accumulate: dv.accumulate)
          if !dv.accumulate { computed = UnsafePointer(dv.pointer) }
        }
      }
    }
  }

  /// Swaps the last two axes: [.., R, C] → [.., C, R].
  public func transposeLast2(_ a: Var) -> Var {
    precondition(a.shape.count >= 2, "transposeLast2 needs rank ≥ 2, got \(a.shape)")
    let R = a.shape[a.shape.count - 2], C = a.shape.last!
    let B = a.value.count / max(R * C, 1)
    var shape = a.shape
    shape.swapAt(shape.count - 1, shape.count - 2)
    let y = alloc(shape)
    TRMKernels.transposeLast2(
      a.value.data, y.storage.pointer, batch: B, rows: R, cols: C, accumulate: false, threads: threads)
    return record(y, inputs: [a]) { g, dy in
      if let da = g.gradTarget(for: a) {
        TRMKernels.transposeLast2(
          dy, da.pointer, batch: B, rows: C, cols: R, accumulate: da.accumulate, threads: g.threads)
      }
    }
  }

  /// Same elements, new shape.
  public func reshape(_ a: Var, _ shape: [Int]) -> Var {
    let y = a.value.reshaped(shape)
    let n = a.value.count
    return record(y, inputs: [a]) { g, dy in
      if let da = g.gradBuffer(for: a) { axpy(1, dy, da, n) }
    }
  }

  /// Concatenation along axis 1 of tensors equal in every other axis.
  public func concat(_ a: Var, _ b: Var) -> Var {
    precondition(
      a.shape.count >= 2 && a.shape.count == b.shape.count && a.shape[0] == b.shape[0]
        && Array(a.shape.dropFirst(2)) == Array(b.shape.dropFirst(2)),
      "concat: shapes \(a.shape) and \(b.shape) differ outside axis 1")
    let B = a.shape[0]
    let ia = a.value.count / max(B, 1), ib = b.value.count / max(B, 1)
    var shape = a.shape
    shape[1] += b.shape[1]
    let y = alloc(shape)
    let yp = y.storage.pointer
    for r in 0..<B {
      (yp + r * (ia + ib)).update(from: a.value.data + r * ia, count: ia)
      (yp + r * (ia + ib) + ia).update(from: b.value.data + r * ib, count: ib)
    }
    return record(y, inputs: [a, b]) { g, dy in
      if let da = g.gradBuffer(for: a) { for r in 0..<B { axpy(1, dy + r * (ia + ib), da + r * ia, ia) } }
      if let db = g.gradBuffer(for: b) { for r in 0..<B { axpy(1, dy + r * (ia + ib) + ia, db + r * ib, ib) } }
    }
  }

  /// The sub-range `range` of axis 1.
  public func slice(_ a: Var, axis1 range: Range<Int>) -> Var {
    precondition(
      a.shape.count >= 2 && range.lowerBound >= 0 && range.upperBound <= a.shape[1],
      "slice: range \(range) outside axis 1 of \(a.shape)")
    let B = a.shape[0], L = a.shape[1]
    let inner = a.value.count / max(B * L, 1)
    var shape = a.shape
    shape[1] = range.count
    let y = alloc(shape)
    let w = range.count * inner
    for r in 0..<B {
      (y.storage.pointer + r * w).update(from: a.value.data + (r * L + range.lowerBound) * inner, count: w)
    }
    return record(y, inputs: [a]) { g, dy in
      if let da = g.gradBuffer(for: a) {
        for r in 0..<B { axpy(1, dy + r * w, da + (r * L + range.lowerBound) * inner, w) }
      }
    }
  }

  // MARK: embedding

  /// Rows of `table` [V, D] picked by `ids` (shape `idsShape`); output [idsShape…, D].
  public func embedding(_ ids: [Int32], shape idsShape: [Int], table: Var) -> Var {
    precondition(ids.count == idsShape.reduce(1, *), "embedding: \(ids.count) ids for shape \(idsShape)")
    let V = table.shape[0], D = table.shape[1]
    for t in ids { precondition(t >= 0 && Int(t) < V, "embedding: id \(t) outside vocabulary 0..<\(V)") }
    let y = alloc(idsShape + [D])
    let tv = table.value
    for (i, t) in ids.enumerated() { (y.storage.pointer + i * D).update(from: tv.data + Int(t) * D, count: D) }
    return record(y, inputs: [table]) { g, dy in
      if let dt = g.gradBuffer(for: table) {
        for (i, t) in ids.enumerated() { axpy(1, dy + i * D, dt + Int(t) * D, D) }
      }
    }
  }

  // MARK: attention

  /// Non-causal multi-head self-attention with optional rotary embeddings.
  /// qkv [B, L, 3D] (q, k, v each D = heads · headDim) → [B, L, D].
  public func attention(_ qkv: Var, heads: Int, rotary: RotaryTables?) -> Var {
    precondition(
      qkv.shape.count == 3 && qkv.shape[2] % (3 * heads) == 0, "attention: qkv \(qkv.shape) not [B, L, 3·heads·d]")
    let B = qkv.shape[0], L = qkv.shape[1], D = qkv.shape[2] / 3, d = D / heads
    if let rotary {
      precondition(
        rotary.length >= L && rotary.headDim == d,
        "attention: rotary tables (\(rotary.length), \(rotary.headDim)) do not cover L=\(L), d=\(d)")
    }
    let y = alloc([B, L, D])
    let probs = alloc([B, heads, L, L])
    let qv = qkv.value
    attentionForward(
      qkv: qv.data, out: y.storage.pointer, probs: probs.storage.pointer, batch: B, length: L, heads: heads, headDim: d,
      rotary: rotary, threads: threads)
    return record(y, inputs: [qkv]) { g, dy in
      if let dq = g.gradBuffer(for: qkv) {
        attentionBackward(
          qkv: qv.data, probs: probs.data, dout: dy, dqkv: dq, batch: B, length: L, heads: heads, headDim: d,
          rotary: rotary, threads: g.threads)
      }
    }
  }

  // MARK: convolution

  /// 3×3 convolution over the cells of an H×W grid, zero padding, no bias: x [B, H·W, C] with
  /// the cells in row-major order, weight [C, 9C] (tap-major, see `conv3x3Forward`) → [B, H·W, C].
  /// No weight depends on H or W, so the same weights run on any grid size.
  public func conv3x3(_ x: Var, _ w: Var, height H: Int, width W: Int) -> Var {
    precondition(x.shape.count == 3 && x.shape[1] == H * W, "conv3x3: x \(x.shape) is not [B, \(H)·\(W), C]")
    let B = x.shape[0], C = x.shape[2]
    precondition(w.shape == [C, 9 * C], "conv3x3: weight \(w.shape) is not [\(C), \(9 * C)]")
    let y = alloc(x.shape)
    let col = alloc([B * H * W, 9 * C])
    let xv = x.value, wv = w.value
    conv3x3Forward(
      xv.data, weight: wv.data, col: col.storage.pointer, y.storage.pointer, batch: B, height: H, width: W, channels: C,
      threads: threads, workspace: pool?.gemmWorkspace)
    return record(y, inputs: [x, w]) { g, dy in
      let dx = g.gradBuffer(for: x), dw = g.gradBuffer(for: w)
      let scratch = dx == nil ? nil : g.alloc([B * H * W, 9 * C])
      conv3x3Backward(
        dy: dy, weight: wv.data, col: col.data, dx: dx, dweight: dw,
        scratch: scratch?.storage.pointer ?? col.storage.pointer,
        batch: B, height: H, width: W, channels: C, threads: g.threads, workspace: g.pool?.gemmWorkspace)
    }
  }

  /// Depthwise 3×3 convolution (one filter per channel) over an H×W grid, zero padding:
  /// x [B, H·W, C], weight [9, C] (tap-major) → [B, H·W, C].
  public func depthwise3x3(_ x: Var, _ w: Var, height H: Int, width W: Int) -> Var {
    precondition(x.shape.count == 3 && x.shape[1] == H * W, "depthwise3x3: x \(x.shape) is not [B, \(H)·\(W), C]")
    let B = x.shape[0], C = x.shape[2]
    precondition(w.shape == [9, C], "depthwise3x3: weight \(w.shape) is not [9, \(C)]")
    let y = alloc(x.shape)
    let xv = x.value, wv = w.value
    depthwise3x3Forward(
      xv.data, weight: wv.data, y.storage.pointer, batch: B, height: H, width: W, channels: C, threads: threads)
    return record(y, inputs: [x, w]) { g, dy in
      depthwise3x3Backward(
        dy: dy, x: xv.data, weight: wv.data, dx: g.gradBuffer(for: x), dweight: g.gradBuffer(for: w),
        batch: B, height: H, width: W, channels: C, threads: g.threads)
    }
  }

  /// Mean over axis 1: a [B, L, D] → [B, D].
  public func meanAxis1(_ a: Var) -> Var {
    precondition(a.shape.count == 3, "meanAxis1: \(a.shape) is not [B, L, D]")
    let B = a.shape[0], L = a.shape[1], D = a.shape[2]
    let y = Tensor(repeating: 0, shape: [B, D], pool: pool)
    let s = 1 / Float(max(L, 1))
    for b in 0..<B { for l in 0..<L { axpy(s, a.value.data + (b * L + l) * D, y.storage.pointer + b * D, D) } }
    return record(y, inputs: [a]) { g, dy in
      guard let da = g.gradBuffer(for: a) else { return }
      for b in 0..<B { for l in 0..<L { axpy(s, dy + b * D, da + (b * L + l) * D, D) } }
    }
  }

  // MARK: losses and reductions

  /// Per-sequence cross-entropy: logits [B, L, V], labels [B·L] (`ignore` marks unsupervised
  /// cells). Output [B]: the mean over each sequence's supervised cells (0 if none).
  public func crossEntropy(_ logits: Var, labels: [Int32], kind: CrossEntropyKind, ignore: Int32 = -100) -> Var {
    precondition(logits.shape.count == 3, "crossEntropy: logits \(logits.shape) not [B, L, V]")
    let B = logits.shape[0], L = logits.shape[1], V = logits.shape[2]
    precondition(labels.count == B * L, "crossEntropy: \(labels.count) labels for logits \(logits.shape)")
    let probs = alloc([B * L * V])
    let losses = [Float](unsafeUninitializedCapacity: B * L) { buf, n in
      labels.withUnsafeBufferPointer { lp in
        crossEntropyForward(
          logits.value.data, labels: lp.baseAddress!, rows: B * L, vocab: V, kind: kind, ignore: ignore,
          probs: probs.storage.pointer, losses: buf.baseAddress!)
      }
      n = B * L
    }
    var counts = [Float](repeating: 0, count: B)
    for b in 0..<B {
      counts[b] = Float(
        max(
          1,
          (0..<L).filter {
            let t = labels[b * L + $0]; return t != ignore && t >= 0 && Int(t) < V
          }.count))
    }
    let y = alloc([B])
    for b in 0..<B {
      var s = 0.0
      for l in 0..<L { s += Double(losses[b * L + l]) }
      y.storage.pointer[b] = Float(s / Double(counts[b]))
    }
    let lv = logits.value
    return record(y, inputs: [logits]) { g, dy in
      guard let dl = g.gradBuffer(for: logits) else { return }
      var w = [Float](repeating: 0, count: B * L)
      for b in 0..<B { for l in 0..<L { w[b * L + l] = dy[b] / counts[b] } }
      crossEntropyBackward(
        lv.data, labels: labels, probs: probs.data, rowWeights: w, rows: B * L, vocab: V, kind: kind, ignore: ignore,
        dlogits: dl)
    }
  }

  /// Binary cross-entropy with logits, elementwise: max(x,0) − x·t + log(1 + e^{−|x|}).
  public func bceWithLogits(_ logits: Var, targets: [Float]) -> Var {
    let n = logits.value.count
    precondition(targets.count == n, "bceWithLogits: \(targets.count) targets for \(logits.shape)")
    let y = alloc(logits.shape)
    let lv = logits.value
    for i in 0..<n {
      let x = Double(lv[flat: i]), t = Double(targets[i])
      y.storage.pointer[i] = Float(max(x, 0) - x * t + _logD(1 + _exp(-abs(x))))
    }
    return record(y, inputs: [logits]) { g, dy in
      guard let dl = g.gradBuffer(for: logits) else { return }
      for i in 0..<n {
        let s = 1 / (1 + _exp(-Double(lv[flat: i])))
        dl[i] += dy[i] * Float(s - Double(targets[i]))
      }
    }
  }

  /// Sum of all elements → [1] (accumulated in Double).
  public func sum(_ a: Var) -> Var {
    let n = a.value.count
    var s = 0.0
    for i in 0..<n { s += Double(a.value[flat: i]) }
    let y = alloc([1])
    y.storage.pointer[0] = Float(s)
    return record(y, inputs: [a]) { g, dy in
      if let da = g.gradBuffer(for: a) { let v = dy[0]; for i in 0..<n { da[i] += v } }
    }
  }

  /// Mean of all elements → [1].
  public func mean(_ a: Var) -> Var { scale(sum(a), 1 / Float(max(a.value.count, 1))) }
}
