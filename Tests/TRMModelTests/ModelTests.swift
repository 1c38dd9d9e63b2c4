import Foundation
import TRMKernels
import TRMModel
import TRMRandom
import TRMTensor
import TRMTestSupport
import TRMTraining
import XCTest

/// Small 4×4 sudoku set built here (the puzzle module is tested separately): a valid grid,
/// relabelled and row/column-permuted within bands, with `blanks` cells hidden.
/// Tokens: 0 PAD, 1 blank, 2…5 digits (reference vocabulary layout).
func tinySudoku(count: Int, blanks: Int, seed: UInt64) -> [Example] {
  let base = [1, 2, 3, 4, 3, 4, 1, 2, 2, 1, 4, 3, 4, 3, 2, 1]
  var rng = SplitMix64(seed: seed)
  var out: [Example] = []
  while out.count < count {
    let digits = rng.permutation(4)
    var rows = [0, 1, 2, 3], cols = [0, 1, 2, 3]
    if rng.nextInt(below: 2) == 1 { rows.swapAt(0, 1) }
    if rng.nextInt(below: 2) == 1 { rows.swapAt(2, 3) }
    if rng.nextInt(below: 2) == 1 { cols.swapAt(0, 1) }
    if rng.nextInt(below: 2) == 1 { cols.swapAt(2, 3) }
    var solution = [Int32](repeating: 0, count: 16)
    for r in 0..<4 { for c in 0..<4 { solution[r * 4 + c] = Int32(digits[base[rows[r] * 4 + cols[c]] - 1] + 2) } }
    var inputs = solution
    for i in rng.permutation(16).prefix(blanks) { inputs[i] = 1 }
    out.append(Example(inputs: inputs, targets: solution))
  }
  return out
}

func tinyConfig(kind: ModelKind = .trm, mixer: TokenMixer = .mlp) -> ModelConfig {
  var c = ModelConfig(vocabSize: 6, sequenceLength: 16)
  c.kind = kind
  c.width = 32
  c.heads = 2
  c.mixer = mixer
  c.prefixLength = kind == .trm && !mixer.isGridConvolution ? 1 : 0
  if mixer.isGridConvolution { c.gridColumns = 4 }
  c.swigluMultiple = 16
  c.latentSteps = 2
  c.recursions = 2
  c.supervisionSteps = 4
  return c
}

final class RecursionSemanticsTests: XCTestCase {
  func grads(_ model: RecursiveModel, _ f: (Graph) -> Var) -> [Float] {
    for p in model.parameters { p.zeroGrad() }
    let g = Graph(recording: true)
    g.backward(f(g))
    return model.parameters.flatMap { $0.grad.scalars }
  }

  func testGradientsComeOnlyFromTheLastRecursion() throws {
    var c = tinyConfig(mixer: .attention)
    c.recursions = 3
    let model = try RecursiveModel(config: c, seed: 1)
    let ex = tinySudoku(count: 2, blanks: 5, seed: 2)
    let tokens = ex.flatMap(\.inputs), labels = ex.flatMap(\.targets)
    let carry = model.initialCarry(batch: 2)
    // Library step: T−1 = 2 gradient-free recursions, then one recorded.
    let lib = grads(model) { g in
      g.sum(g.crossEntropy(model.step(g, tokens: tokens, carry: carry).logits, labels: labels, kind: .softmax))
    }
    // By hand: advance the carry twice without recording, then one recorded recursion.
    let ng = Graph(recording: false)
    let x0 = model.embed(ng, tokens: tokens, batch: 2)
    var (y, z) = (ng.constant(carry.y), ng.constant(carry.z))
    for _ in 0..<2 { (y, z) = model.recursion(ng, x: x0, y: y, z: z, latentSteps: 2) }
    let manual = grads(model) { g in
      let x = model.embed(g, tokens: tokens, batch: 2)
      let (yl, _) = model.recursion(g, x: x, y: g.constant(y.value), z: g.constant(z.value), latentSteps: 2)
      return g.sum(g.crossEntropy(model.lmHead(g, g.slice(yl, axis1: 1..<17)), labels: labels, kind: .softmax))
    }
    XCTAssertEqual(lib.count, manual.count)
    XCTAssertLessThan(maxRelativeDifference(lib, manual).error, 1e-5)
    // Full backprop through all T recursions gives different gradients: the check above can fail.
    let full = grads(model) { g in
      g.sum(
        g.crossEntropy(
          model.step(g, tokens: tokens, carry: carry, gradientRecursions: 3).logits, labels: labels, kind: .softmax))
    }
    XCTAssertGreaterThan(maxRelativeDifference(lib, full).error, 1e-4)
  }

  func testOutputHeadReadsYAndCarryIsDetached() throws {
    let model = try RecursiveModel(config: tinyConfig(), seed: 3)
    let ex = tinySudoku(count: 3, blanks: 4, seed: 4)
    let g = Graph(recording: true)
    let out = model.step(g, tokens: ex.flatMap(\.inputs), carry: model.initialCarry(batch: 3))
    let ng = Graph(recording: false)
    let fromY = model.lmHead(ng, ng.slice(ng.constant(out.carry.y), axis1: 1..<17)).value.scalars
    XCTAssertEqual(fromY, out.logits.value.scalars)
    let fromZ = model.lmHead(ng, ng.slice(ng.constant(out.carry.z), axis1: 1..<17)).value.scalars
    XCTAssertNotEqual(fromZ, out.logits.value.scalars)
    // The halting head starts at weight 0, bias −5.
    XCTAssertEqual(out.haltLogits!.value.scalars, [-5, -5, -5])
  }
}

extension RecursionSemanticsTests {
  /// The recursion budget is a run-time value: one model stepped with budget (n, T) gives the
  /// same logits, bit for bit, as a model built with that budget in its config (same seed).
  func testARunTimeBudgetEqualsAModelBuiltWithThatBudget() throws {
    let base = try RecursiveModel(config: tinyConfig(mixer: .attention), seed: 41)
    let ex = tinySudoku(count: 2, blanks: 5, seed: 42)
    var seen: Set<[Float]> = []
    for (n, T) in [(1, 1), (3, 2), (2, 3)] {
      var c = tinyConfig(mixer: .attention)
      c.latentSteps = n
      c.recursions = T
      let built = try RecursiveModel(config: c, seed: 41)
      let budget = RecursionBudget(latentSteps: n, recursions: T, supervisionSteps: 4)
      XCTAssertEqual(base.forwardFlopsPerExample(budget: budget), built.forwardFlopsPerExample())
      var carryA = base.initialCarry(batch: 2), carryB = built.initialCarry(batch: 2)
      for _ in 0..<2 {
        let a = base.step(Graph(recording: false), tokens: ex.flatMap(\.inputs), carry: carryA, budget: budget)
        let b = built.step(Graph(recording: false), tokens: ex.flatMap(\.inputs), carry: carryB)
        XCTAssertEqual(a.logits.value.scalars, b.logits.value.scalars, "n=\(n) T=\(T)")
        carryA = a.carry
        carryB = b.carry
        seen.insert(a.logits.value.scalars)
      }
    }
    XCTAssertEqual(seen.count, 6, "every budget and step gives different logits (the check can fail)")
    XCTAssertEqual(
      base.config.budget, tinyConfig(mixer: .attention).budget, "stepping with a budget leaves the model as built")
  }

  /// Paper Table 1's "1-step gradient": in the recorded recursion the first n − 1 latent updates
  /// run without recording; gradients come only from the last z update and the y update.
  func testOneStepGradientFlowsOnlyThroughTheLastLatentUpdateAndY() throws {
    var c = tinyConfig(mixer: .attention)
    c.latentSteps = 3
    c.recursions = 2
    let model = try RecursiveModel(config: c, seed: 43)
    let ex = tinySudoku(count: 2, blanks: 5, seed: 44)
    let tokens = ex.flatMap(\.inputs), labels = ex.flatMap(\.targets)
    let carry = model.initialCarry(batch: 2)
    func loss(_ g: Graph, _ logits: Var) -> Var { g.sum(g.crossEntropy(logits, labels: labels, kind: .softmax)) }
    let lib = grads(model) { g in loss(g, model.step(g, tokens: tokens, carry: carry, oneStepGradient: true).logits) }
    // By hand: one free recursion, then n − 1 free latent updates, then z and y recorded.
    let ng = Graph(recording: false)
    let x0 = model.embed(ng, tokens: tokens, batch: 2)
    var (y, z) = model.recursion(ng, x: x0, y: ng.constant(carry.y), z: ng.constant(carry.z), latentSteps: 3)
    for _ in 0..<2 { z = model.net(ng, z, injection: ng.add(y, x0)) }
    (y, z) = (ng.constant(y.value), ng.constant(z.value))
    let manual = grads(model) { g in
      let x = model.embed(g, tokens: tokens, batch: 2)
      let yc = g.constant(y.value)
      let zl = model.net(g, g.constant(z.value), injection: g.add(yc, x))
      let yl = model.net(g, yc, injection: zl)
      return loss(g, model.lmHead(g, g.slice(yl, axis1: 1..<17)))
    }
    XCTAssertLessThan(maxRelativeDifference(lib, manual).error, 1e-5)
    let full = grads(model) { g in loss(g, model.step(g, tokens: tokens, carry: carry).logits) }
    XCTAssertGreaterThan(maxRelativeDifference(lib, full).error, 1e-4, "the usual gradient differs: the check can fail")
  }
}

final class TrainingLoopTests: XCTestCase {
  func trainer(haltBias: Float, exploration: Double = 0, batch: Int = 4, threads: Int = 1) throws -> Trainer {
    var c = tinyConfig()
    c.haltExploration = exploration
    let model = try RecursiveModel(config: c, seed: 51)
    model.haltBias?.value = Tensor([haltBias], shape: [1])
    var tc = TrainingConfig()
    tc.batchSize = batch
    tc.learningRate = 0  // the halting head keeps its bias: the test is about the loop
    tc.weightDecay = 0
    tc.threads = threads
    return try Trainer(model: model, config: tc, data: tinySudoku(count: 10, blanks: 6, seed: 52))
  }

  /// A slot keeps its puzzle (and carry) until it halts; a halted slot takes the next example
  /// of the shuffled order with a fresh carry.
  func testSlotsKeepTheirPuzzleUntilTheyHaltThenRefill() throws {
    // Halt logit −5: only the N_sup = 4 cap halts.
    let t = try trainer(haltBias: -5)
    t.trainStep()
    let first = t.state.slotExample
    XCTAssertEqual(t.state.cursor, 4)
    for k in 2...4 {
      let m = t.trainStep()
      XCTAssertEqual(t.state.slotExample, first, "slots keep their puzzle before halting (step \(k))")
      XCTAssertEqual(m.haltedCount, k == 4 ? 4 : 0)
    }
    XCTAssertEqual(t.state.slotSteps, [4, 4, 4, 4])
    t.trainStep()
    XCTAssertEqual(t.state.cursor, 8, "all four slots took the next examples")
    XCTAssertEqual(t.state.slotExample, Array(t.state.order[4..<8]))
    XCTAssertEqual(t.state.slotSteps, [1, 1, 1, 1])
  }

  /// A positive halt logit halts a slot after one step (no exploration); the next step refills
  /// every slot, so each step draws a new batch.
  func testAPositiveHaltLogitHaltsAfterOneStep() throws {
    let t = try trainer(haltBias: 5)
    for k in 1...5 {
      let m = t.trainStep()
      XCTAssertEqual(m.haltedCount, 4)
      XCTAssertEqual(m.meanHaltSupervisionSteps, 1)
      XCTAssertEqual(t.state.cursor, (4 * k - 1) % 10 + 1, "an epoch of 10 is reshuffled when used up")
    }
    // With exploration 1, every slot must first reach a random minimum of 2…N_sup steps.
    let e = try trainer(haltBias: 5, exploration: 1)
    XCTAssertEqual(e.trainStep().haltedCount, 0)
  }

  /// A full training step (forward, backward, AdamW, EMA, halting) is bit-identical with 1 and 2
  /// threads: parallel work is split over outputs.
  func testOneAndTwoThreadsTrainBitIdentically() throws {
    func run(_ threads: Int) throws -> ([Double], [Float]) {
      // Big enough that every kernel splits: 32 × 17 rows × 64 wide ≥ the row kernels' 32k
      // threshold, and every GEMM is above its 2^18 multiply-adds.
      var c = tinyConfig(mixer: .attention)
      c.width = 64
      c.haltExploration = 0.5
      let model = try RecursiveModel(config: c, seed: 53)
      var tc = TrainingConfig()
      tc.batchSize = 32
      tc.threads = threads
      let t = try Trainer(model: model, config: tc, data: tinySudoku(count: 64, blanks: 6, seed: 54))
      let losses = (0..<5).map { _ in t.trainStep().loss }
      return (losses, model.parameters.flatMap { $0.value.scalars })
    }
    let (l1, p1) = try run(1), (l2, p2) = try run(2)
    XCTAssertEqual(l1, l2)
    XCTAssertEqual(p1, p2)
  }

  /// Evaluation with halting equals running step by step and taking each puzzle's answer at the
  /// first step whose halt logit is positive.
  func testEvaluatorHaltingEqualsAStepByStepRun() throws {
    let m = try RecursiveModel(config: tinyConfig(), seed: 55)
    var rng = SplitMix64(seed: 56)
    m.haltWeight?.value = Tensor(
      (0..<m.config.width).map { _ in Float(rng.nextDouble() - 0.5) }, shape: [1, m.config.width])
    m.haltBias?.value = Tensor([0.1], shape: [1])
    let ex = tinySudoku(count: 10, blanks: 6, seed: 57)
    var budget = m.config.budget
    budget.supervisionSteps = 6
    let preds = Evaluator.predict(model: m, inputs: ex.map(\.inputs), budget: budget, halt: true, batchSize: 10)
    var carry = m.initialCarry(batch: 10)
    var answers = [[Int32]?](repeating: nil, count: 10), steps = [Int](repeating: 6, count: 10)
    for k in 1...6 {
      let o = m.step(Graph(recording: false), tokens: ex.flatMap(\.inputs), carry: carry)
      carry = o.carry
      let tokens = argmax(o.logits.value, rows: 160, vocab: 6)
      for b in 0..<10 where answers[b] == nil {
        if o.haltLogits!.value[flat: b] > 0 || k == 6 {
          answers[b] = Array(tokens[(b * 16)..<((b + 1) * 16)])
          steps[b] = k
        }
      }
    }
    XCTAssertEqual(preds.map(\.tokens), answers.map { $0 ?? [] })
    XCTAssertEqual(preds.map(\.supervisionSteps), steps)
    XCTAssertGreaterThan(Set(steps).count, 1, "puzzles halt at different steps: \(steps)")
  }
}

final class ReconfigurationTests: XCTestCase {
  func testAttentionModelsChangeLengthAndDepthWithTheSameWeights() throws {
    let m = try RecursiveModel(config: tinyConfig(mixer: .attention), seed: 21)
    let longer = try m.resized(sequenceLength: 25)
    XCTAssertEqual(longer.parameters.map(\.name), m.parameters.map(\.name))
    XCTAssertEqual(longer.parameters.flatMap { $0.value.scalars }, m.parameters.flatMap { $0.value.scalars })
    let tokens = [Int32](repeating: 2, count: 2 * 25)
    let out = longer.step(Graph(recording: false), tokens: tokens, carry: longer.initialCarry(batch: 2))
    XCTAssertEqual(out.logits.shape, [2, 25, 6])
    // Same length: identical logits to the original.
    let ex = tinySudoku(count: 2, blanks: 5, seed: 22)
    let same = try m.resized(sequenceLength: 16)
    let a = m.step(Graph(recording: false), tokens: ex.flatMap(\.inputs), carry: m.initialCarry(batch: 2)).logits.value
      .scalars
    let b = same.step(Graph(recording: false), tokens: ex.flatMap(\.inputs), carry: same.initialCarry(batch: 2)).logits
      .value.scalars
    XCTAssertEqual(a, b)
    XCTAssertThrowsError(try RecursiveModel(config: tinyConfig(mixer: .mlp), seed: 1).resized(sequenceLength: 25))
  }

  func testConvModelsRunOnAnyGridWithTheSameWeights() throws {
    let c = tinyConfig(mixer: .conv)
    let m = try RecursiveModel(config: c, seed: 31)
    XCTAssertTrue(m.parameters.contains { $0.name == "net.blocks.0.mixer.conv.weight" && $0.shape == [32, 9 * 32] })
    let bigger = try m.resized(sequenceLength: 35, gridColumns: 7)
    XCTAssertEqual(bigger.parameters.flatMap { $0.value.scalars }, m.parameters.flatMap { $0.value.scalars })
    let out = bigger.step(
      Graph(recording: false), tokens: [Int32](repeating: 2, count: 2 * 35), carry: bigger.initialCarry(batch: 2))
    XCTAssertEqual(out.logits.shape, [2, 35, 6])
    XCTAssertEqual(out.haltLogits?.shape, [2], "the halting head reads the cell mean")
    // Locality: a token changed at one corner leaves the logits of the far corner unchanged
    // (n = 1, T = 1, one step: x reaches y through two net applications of two 3×3 blocks,
    // a radius of 4 cells; the corners of a 7×7 grid are 6 apart).
    var local = c
    local.latentSteps = 1
    local.recursions = 1
    local.sequenceLength = 49
    local.gridColumns = 7
    let lm = try RecursiveModel(config: local, seed: 32)
    let t1 = [Int32](repeating: 2, count: 49)
    var t2 = t1
    t2[0] = 3
    let a = lm.step(Graph(recording: false), tokens: t1, carry: lm.initialCarry(batch: 1)).logits.value.scalars
    let b = lm.step(Graph(recording: false), tokens: t2, carry: lm.initialCarry(batch: 1)).logits.value.scalars
    XCTAssertEqual(Array(a[(48 * 6)...]), Array(b[(48 * 6)...]), "far corner must not see the change")
    XCTAssertNotEqual(Array(a[..<6]), Array(b[..<6]))
    // Invalid: a prefix, or no grid.
    var bad = c
    bad.prefixLength = 1
    XCTAssertThrowsError(try bad.validate())
    bad = c
    bad.gridColumns = nil
    XCTAssertThrowsError(try bad.validate())
    bad = c
    bad.gridColumns = 5
    XCTAssertThrowsError(try bad.validate(), "5 columns do not divide 16 cells")
    // The MLP mixer cannot change size, and says so with both sizes.
    XCTAssertThrowsError(try RecursiveModel(config: tinyConfig(mixer: .mlp), seed: 1).resized(sequenceLength: 25)) {
      XCTAssertTrue("\($0)".contains("MLP") && "\($0)".contains("16") && "\($0)".contains("25"), "\($0)")
    }
  }

  func testGridPositionModelsNeedTheNewGridWidth() throws {
    var c = tinyConfig(mixer: .attention)
    c.heads = 1  // head dim 32, a multiple of 4
    c.gridColumns = 4
    let m = try RecursiveModel(config: c, seed: 23)
    XCTAssertThrowsError(try m.resized(sequenceLength: 25), "a 2-D model must be told the new grid's width")
    XCTAssertThrowsError(try m.resized(sequenceLength: 25, gridColumns: 4), "4 columns do not divide 25 cells")
    let bigger = try m.resized(sequenceLength: 25, gridColumns: 5)
    XCTAssertEqual(bigger.config.gridColumns, 5)
    // 2-D and 1-D positions give different logits for the same weights.
    var flat = c
    flat.gridColumns = nil
    let m1 = try RecursiveModel(config: flat, seed: 23)
    let ex = tinySudoku(count: 1, blanks: 5, seed: 24)
    let a = m.step(Graph(recording: false), tokens: ex[0].inputs, carry: m.initialCarry(batch: 1)).logits.value.scalars
    let b = m1.step(Graph(recording: false), tokens: ex[0].inputs, carry: m1.initialCarry(batch: 1)).logits.value
      .scalars
    XCTAssertNotEqual(a, b)
    var odd = c
    odd.heads = 8  // head dim 4 is fine; 2 heads of 16 too; 16 heads of 2 is not
    XCTAssertNoThrow(try odd.validate())
    odd.heads = 16
    XCTAssertThrowsError(try odd.validate())
  }
}

final class OptimizerTests: XCTestCase {
  func testAdamWMatchesAnIndependentDoublePrecisionLoop() {
    let p = Parameter(name: "w", value: Tensor([0.5, -1.5, 2.0, 0.0], shape: [4]))
    let q = Parameter(name: "b", value: Tensor([1.0, -2.0], shape: [2]), decays: false)
    let opt = AdamW(beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1)
    var wd: [Double] = [0.5, -1.5, 2.0, 0.0], bd: [Double] = [1.0, -2.0]
    var mw = [Double](repeating: 0, count: 4), vw = mw, mb = [0.0, 0.0], vb = mb
    let lrs = [0.01, 0.02, 0.03, 0.01, 0.005]
    for (t, lr) in lrs.enumerated() {
      // gradient of Σ w² + Σ sin-free cubic terms: g = 2w + 0.1 (t+1)
      let gw = wd.map { 2 * $0 + 0.1 * Double(t + 1) }, gb = bd.map { 3 * $0 * $0 }
      p.grad = Tensor(gw.map(Float.init), shape: [4])
      q.grad = Tensor(gb.map(Float.init), shape: [2])
      opt.step([p, q], learningRate: lr)
      let n = Double(t + 1)
      func upd(_ x: inout [Double], _ m: inout [Double], _ v: inout [Double], _ g: [Double], _ wdecay: Double) {
        for i in 0..<x.count {
          m[i] = 0.9 * m[i] + 0.1 * g[i]
          v[i] = 0.95 * v[i] + 0.05 * g[i] * g[i]
          let mh = m[i] / (1 - Foundation.pow(0.9, n)), vh = v[i] / (1 - Foundation.pow(0.95, n))
          x[i] = x[i] * (1 - lr * wdecay) - lr * mh / (vh.squareRoot() + 1e-8)
        }
      }
      upd(&wd, &mw, &vw, gw, 0.1)
      upd(&bd, &mb, &vb, gb, 0)
    }
    for i in 0..<4 { XCTAssertEqual(Double(p.value[flat: i]), wd[i], accuracy: 1e-5) }
    for i in 0..<2 { XCTAssertEqual(Double(q.value[flat: i]), bd[i], accuracy: 1e-5) }
  }

  func testEMAMatchesADoubleLoopAndSwapsWeights() {
    let p = Parameter(name: "w", value: Tensor([1, 2], shape: [2]))
    let ema = EMA(decay: 0.9, params: [p])
    var s: [Double] = [1, 2]
    for k in 1...4 {
      p.value = Tensor([Float(k), Float(-k)], shape: [2])
      ema.update([p])
      s = zip(s, [Double(k), Double(-k)]).map { 0.9 * $0 + 0.1 * $1 }
    }
    XCTAssertEqual(Double(ema.shadow["w"]![flat: 0]), s[0], accuracy: 1e-5)
    XCTAssertEqual(Double(ema.shadow["w"]![flat: 1]), s[1], accuracy: 1e-5)
    ema.withShadowWeights([p]) { XCTAssertEqual(Double(p.value[flat: 0]), s[0], accuracy: 1e-5) }
    XCTAssertEqual(p.value.scalars, [4, -4])
  }

  /// The warmed-up EMA: the first update copies the weights (the initialisation never enters the
  /// average); later updates follow d_t = min(bias-corrected d, (1 + t)/(10 + t)) (a double
  /// precision loop here); from t ≈ 1,800 on (d = 0.995) it is the reference's plain EMA.
  func testWarmedUpEMAForgetsTheInitialisationAndBecomesThePlainEMA() {
    let p = Parameter(name: "w", value: Tensor([100, -100], shape: [2]))  // the initialisation
    let ema = EMA(decay: 0.995, params: [p])
    var twin: [Double] = [100, -100]
    for t in 1...2_000 {
      let w = [Double(t % 7), Double(t * t % 11) / 3]
      p.value = Tensor(w.map(Float.init), shape: [2])
      ema.update([p], step: t)
      let corrected = 0.995 * (1 - Foundation.pow(0.995, Double(t - 1))) / (1 - Foundation.pow(0.995, Double(t)))
      let d = min(corrected, Double(1 + t) / Double(10 + t))
      if t == 1 { XCTAssertEqual(d, 0) }
      if t >= 1_800 { XCTAssertEqual(d, 0.995, accuracy: 1e-6) }
      twin = zip(twin, w).map { d * $0 + (1 - d) * $1 }
      for j in 0..<2 {
        XCTAssertEqual(Double(ema.shadow["w"]![flat: j]), twin[j], accuracy: 1e-3, "t=\(t)")
      }
    }
  }

  func testScheduleWarmupThenCosine() {
    let s = LearningRateSchedule(peak: 1, warmupSteps: 4, totalSteps: 14, shape: .cosine, minRatio: 0)
    XCTAssertEqual(s.rate(at: 0), 0.25, accuracy: 1e-12)
    XCTAssertEqual(s.rate(at: 3), 1, accuracy: 1e-12)
    XCTAssertEqual(s.rate(at: 9), 0.5, accuracy: 1e-9)
    XCTAssertEqual(s.rate(at: 14), 0, accuracy: 1e-9)
  }
}

final class CheckpointTests: XCTestCase {
  var dir: URL!
  override func setUp() {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("trm-ckpt-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }
  override func tearDown() { try? FileManager.default.removeItem(at: dir) }

  func logits(_ m: RecursiveModel, _ ex: [Example]) -> [Float] {
    let g = Graph(recording: false)
    return m.step(g, tokens: ex.flatMap(\.inputs), carry: m.initialCarry(batch: ex.count)).logits.value.scalars
  }

  func testRoundTripGivesBitIdenticalLogits() throws {
    for mixer in TokenMixer.allCases {
      let m = try RecursiveModel(config: tinyConfig(mixer: mixer), seed: 7)
      let url = dir.appendingPathComponent("m-\(mixer).safetensors")
      try Checkpoint.save(model: m, to: url)
      let back = try Checkpoint.loadModel(from: url)
      let ex = tinySudoku(count: 3, blanks: 6, seed: 8)
      XCTAssertEqual(logits(m, ex), logits(back, ex))
      XCTAssertEqual(back.config, m.config)
    }
  }

  func testResumeGivesTheSameNextStepLossAsUninterruptedTraining() throws {
    let data = tinySudoku(count: 24, blanks: 6, seed: 9)
    var tc = TrainingConfig()
    tc.batchSize = 8
    tc.optimizerSteps = 10
    tc.warmupSteps = 2
    tc.learningRate = 3e-3
    // On-line augmentation drawn from the trainer's RNG: relabel the four digits.
    let relabel: (Int, inout SplitMix64) -> Example = { i, rng in
      let perm = rng.permutation(4).map { Int32($0 + 2) }
      func map(_ t: [Int32]) -> [Int32] { t.map { $0 >= 2 ? perm[Int($0) - 2] : $0 } }
      return Example(inputs: map(data[i].inputs), targets: map(data[i].targets))
    }
    let a = try Trainer(model: try RecursiveModel(config: tinyConfig(), seed: 10), config: tc, data: data)
    a.augmentation = relabel
    for _ in 0..<5 { a.trainStep() }
    let url = dir.appendingPathComponent("resume.safetensors")
    try Checkpoint.save(trainer: a, to: url)
    let b = try Checkpoint.read(url).trainer(data: data)
    b.augmentation = relabel
    for _ in 0..<3 {
      let la = a.trainStep(), lb = b.trainStep()
      XCTAssertEqual(la.loss, lb.loss, "resumed training diverged at step \(la.step)")
    }
    XCTAssertEqual(a.model.parameters.flatMap { $0.value.scalars }, b.model.parameters.flatMap { $0.value.scalars })
  }

  func testStaggeredSlotsMixDepthsFromTheFirstStep() throws {
    let data = tinySudoku(count: 32, blanks: 6, seed: 23)
    var c = tinyConfig()
    c.supervisionSteps = 4
    c.haltExploration = 0
    for stagger in [false, true] {
      var tc = TrainingConfig()
      tc.batchSize = 8
      tc.staggerSlots = stagger
      let t = try Trainer(model: try RecursiveModel(config: c, seed: 24), config: tc, data: data)
      // Halt logits start at −5, so only the N_sup cap halts: slot s starts at s mod 4 used
      // steps when staggered, so slots 3 and 7 finish after the first step.
      let first = t.trainStep()
      XCTAssertEqual(first.haltedCount, stagger ? 2 : 0, "stagger \(stagger)")
      if stagger { XCTAssertEqual(first.meanHaltSupervisionSteps, 4) }
      let second = t.trainStep()
      XCTAssertEqual(second.haltedCount, stagger ? 2 : 0, "stagger \(stagger), second step")
    }
  }

  func testGradientClippingScalesToTheMaximumNormAndKeepsDirection() {
    let p = Parameter(name: "p", value: .zeros([2])), q = Parameter(name: "q", value: .zeros([1]))
    p.grad = Tensor([3, 0], shape: [2])
    q.grad = Tensor([4], shape: [1])
    XCTAssertEqual(clipGradientNorm([p, q], maxNorm: 1), 5, accuracy: 1e-9)
    XCTAssertEqual(p.grad.scalars[0], 0.6, accuracy: 1e-6)
    XCTAssertEqual(q.grad.scalars[0], 0.8, accuracy: 1e-6)
    // Below the threshold nothing changes.
    let before = p.grad.scalars + q.grad.scalars
    XCTAssertEqual(clipGradientNorm([p, q], maxNorm: 2), 1, accuracy: 1e-5)
    XCTAssertEqual(p.grad.scalars + q.grad.scalars, before)
  }

  func testSupervisionWarmupCapsSlotStepsThenReachesNSup() throws {
    let data = tinySudoku(count: 32, blanks: 6, seed: 21)
    var tc = TrainingConfig()
    tc.batchSize = 8
    tc.optimizerSteps = 40
    tc.supervisionWarmup = 12
    var c = tinyConfig()
    c.supervisionSteps = 4
    let t = try Trainer(model: try RecursiveModel(config: c, seed: 22), config: tc, data: data)
    // Cap = 1 + 3·step/12: 1 for steps 0-3, 2 for 4-7, 3 for 8-11, then 4.
    XCTAssertEqual(t.effectiveSupervisionSteps, 1)
    let first = t.trainStep()
    XCTAssertEqual(first.haltedCount, 8, "with a cap of 1 every slot halts after one step")
    XCTAssertEqual(first.meanHaltSupervisionSteps, 1)
    var longest = 0.0
    for _ in 1..<30 {
      let cap = t.effectiveSupervisionSteps
      let m = t.trainStep()
      if let s = m.meanHaltSupervisionSteps { XCTAssertLessThanOrEqual(s, Double(cap)); longest = max(longest, s) }
    }
    XCTAssertEqual(t.effectiveSupervisionSteps, 4)
    XCTAssertGreaterThan(longest, 2, "slots use more supervision steps once the cap has grown")
    // The option survives a checkpoint round trip (resume continues the same curriculum).
    let url = dir.appendingPathComponent("warmup.safetensors")
    try Checkpoint.save(trainer: t, to: url)
    XCTAssertEqual(try Checkpoint.read(url).trainer(data: data).config.supervisionWarmup, 12)
  }

  func testEarlyHaltingDropsHaltedRowsWithoutChangingAnyAnswer() throws {
    let m = try RecursiveModel(config: tinyConfig(), seed: 23)
    // A halt head that fires for some examples at some steps and not for others.
    var rng = SplitMix64(seed: 24)
    m.haltWeight!.value = Tensor(
      (0..<m.config.width).map { _ in Float(rng.nextDouble() - 0.5) }, shape: [1, m.config.width])
    m.haltBias!.value = Tensor([0.1], shape: [1])
    let ex = tinySudoku(count: 12, blanks: 6, seed: 25)
    var sixSteps = m.config.budget
    sixSteps.supervisionSteps = 6
    let batched = Evaluator.predict(model: m, inputs: ex.map(\.inputs), budget: sixSteps, halt: true, batchSize: 12)
    let alone = ex.map {
      Evaluator.predict(model: m, inputs: [$0.inputs], budget: sixSteps, halt: true, batchSize: 1)[0]
    }
    XCTAssertEqual(batched.map(\.tokens), alone.map(\.tokens))
    XCTAssertEqual(batched.map(\.supervisionSteps), alone.map(\.supervisionSteps))
    XCTAssertEqual(batched.map(\.haltProbability), alone.map(\.haltProbability))
    // Threads split the rows into batches run side by side: the same answers in input order.
    for threads in [2, 3] {
      let split = Evaluator.predict(
        model: m, inputs: ex.map(\.inputs), budget: sixSteps, halt: true, batchSize: 12, threads: threads)
      XCTAssertEqual(split.map(\.tokens), alone.map(\.tokens), "\(threads) threads")
      XCTAssertEqual(split.map(\.supervisionSteps), alone.map(\.supervisionSteps), "\(threads) threads")
    }
    XCTAssertGreaterThan(
      Set(batched.map(\.supervisionSteps)).count, 1,
      "the check needs rows that halt at different steps: \(batched.map(\.supervisionSteps))")
    // Without halting every example runs all steps.
    XCTAssertEqual(
      Set(
        Evaluator.predict(model: m, inputs: ex.map(\.inputs), budget: sixSteps, halt: false, batchSize: 12).map(
          \.supervisionSteps)
      ), [6])
  }

  /// `untilStable`: a row stops at the first step k ≥ 2 whose answer equals step k − 1's, with
  /// that answer — checked against the answers of every step computed one depth at a time.
  func testUntilStableStopsAtTheFirstUnchangedAnswer() throws {
    // A briefly trained model: its answers settle after different numbers of steps (a random
    // one's never do).
    let ex = tinySudoku(count: 16, blanks: 8, seed: 30)
    var tc = TrainingConfig()
    tc.batchSize = 16
    tc.learningRate = 3e-3
    tc.warmupSteps = 5
    let t = try Trainer(model: try RecursiveModel(config: tinyConfig(), seed: 29), config: tc, data: ex)
    for _ in 0..<60 { t.trainStep() }
    let m = try t.evaluationModel()
    var budget = m.config.budget
    budget.supervisionSteps = 6
    let stable = Evaluator.predict(
      model: m, inputs: ex.map(\.inputs), budget: budget, halt: false, untilStable: true, batchSize: 16, threads: 2)
    let byDepth = (1...6).map { k -> [[Int32]] in
      var b = budget
      b.supervisionSteps = k
      return Evaluator.predict(model: m, inputs: ex.map(\.inputs), budget: b, halt: false, batchSize: 16).map(\.tokens)
    }
    for i in ex.indices {
      let first = (2...6).first { byDepth[$0 - 1][i] == byDepth[$0 - 2][i] } ?? 6
      XCTAssertEqual(stable[i].supervisionSteps, first, "example \(i)")
      XCTAssertEqual(stable[i].tokens, byDepth[first - 1][i], "example \(i)")
    }
    XCTAssertGreaterThan(
      Set(stable.map(\.supervisionSteps)).count, 1,
      "the check needs rows that settle at different steps: \(stable.map(\.supervisionSteps))")
  }

  /// Hostile checkpoints: every one is a thrown error naming the problem, none a trap or a hang.
  func testHostileCheckpointsAreErrorsNotCrashes() throws {
    let data = tinySudoku(count: 8, blanks: 6, seed: 61)
    var tc = TrainingConfig()
    tc.batchSize = 4
    let t = try Trainer(model: try RecursiveModel(config: tinyConfig(), seed: 62), config: tc, data: data)
    t.trainStep()
    let url = dir.appendingPathComponent("t.safetensors")
    try Checkpoint.save(trainer: t, to: url)
    func expectError(_ edit: (inout SafeTensors) throws -> Void, _ fragment: String, line: UInt = #line) throws {
      var st = try SafeTensors(contentsOf: url)
      try edit(&st)
      let bad = dir.appendingPathComponent("bad.safetensors")
      try st.write(to: bad)
      XCTAssertThrowsError(try Checkpoint.read(bad).trainer(data: data), line: line) { e in
        XCTAssertTrue("\(e)".contains(fragment), "'\(e)' does not mention '\(fragment)'", line: line)
      }
    }
    func editJSON(_ key: String, _ st: inout SafeTensors, _ f: (inout [String: Any]) -> Void) throws {
      var obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(st.metadata[key]!.utf8)) as? [String: Any])
      f(&obj)
      st.metadata[key] = String(decoding: try JSONSerialization.data(withJSONObject: obj), as: UTF8.self)
    }
    try expectError({ try editJSON("model", &$0) { $0["supervisionSteps"] = 1 << 40 } }, "supervisionSteps")
    try expectError({ try editJSON("model", &$0) { $0["width"] = 1 << 40 } }, "limits")
    // Found by the fuzzer: a zero rounding multiple divided by zero while sizing the model.
    try expectError({ try editJSON("model", &$0) { $0["swigluMultiple"] = 0 } }, "swigluMultiple")
    try expectError(
      { try editJSON("model", &$0) { $0["widht"] = $0.removeValue(forKey: "width") } }, "model configuration")
    try expectError({ try editJSON("training", &$0) { $0["batchSize"] = 1 << 62 } }, "batchSize")
    try expectError({ try editJSON("loop", &$0) { $0["halted"] = [true] } }, "slot entries")
    try expectError(
      { try editJSON("loop", &$0) { $0["slotInputs"] = Array(repeating: Array(repeating: 99, count: 16), count: 4) } },
      "outside the vocabulary")
    try expectError({ try editJSON("loop", &$0) { $0["cursor"] = -5 } }, "does not match")
    try expectError({ $0.tensors["carry.y"] = Tensor([Float.nan], shape: [1]) }, "carry.y")
    // A NaN weight: refused when loading for evaluation too, not a trap in the first kernel.
    var poisoned = try SafeTensors(contentsOf: url)
    let w = try XCTUnwrap(poisoned.tensors["lmHead.weight"])
    poisoned.tensors["lmHead.weight"] = Tensor([Float](repeating: .nan, count: w.count), shape: w.shape)
    poisoned.tensors = poisoned.tensors.filter { !$0.key.hasPrefix("ema.") }
    let nanURL = dir.appendingPathComponent("nan.safetensors")
    try poisoned.write(to: nanURL)
    XCTAssertThrowsError(try Checkpoint.loadModel(from: nanURL)) { XCTAssertTrue("\($0)".contains("NaN"), "\($0)") }
    // A shape whose size product overflows, written by hand into the header.
    let bytes = try Data(contentsOf: url)
    let n = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    var header = try XCTUnwrap(JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + n))) as? [String: Any])
    var entry = try XCTUnwrap(header["lmHead.weight"] as? [String: Any])
    entry["shape"] = [1 << 40, 1 << 40]
    header["lmHead.weight"] = entry
    let newHeader = try JSONSerialization.data(withJSONObject: header)
    var hostile = Data()
    var len = UInt64(newHeader.count).littleEndian
    withUnsafeBytes(of: &len) { hostile.append(contentsOf: $0) }
    hostile.append(newHeader)
    hostile.append(bytes.subdata(in: (8 + n)..<bytes.count))
    XCTAssertThrowsError(try SafeTensors(data: hostile)) { XCTAssertTrue("\($0)".contains("lmHead.weight"), "\($0)") }
  }

  func testCorruptTruncatedWrongVersionAndMisshapenFilesAreRejected() throws {
    let m = try RecursiveModel(config: tinyConfig(), seed: 11)
    let url = dir.appendingPathComponent("ok.safetensors")
    try Checkpoint.save(model: m, to: url)
    let bytes = try Data(contentsOf: url)
    func expectError(_ data: Data, containing s: String, line: UInt = #line) {
      let u = dir.appendingPathComponent("bad.safetensors")
      try? data.write(to: u)
      XCTAssertThrowsError(try Checkpoint.loadModel(from: u), line: line) { e in
        XCTAssertTrue("\(e)".contains(s), "error '\(e)' does not mention '\(s)'", line: line)
      }
    }
    expectError(bytes.prefix(bytes.count - 100), containing: "truncated")
    expectError(bytes.prefix(5), containing: "too short")
    expectError(Data(repeating: 0xFF, count: 64), containing: "header length")
    var garbled = bytes
    garbled[9] = 0x00
    expectError(garbled, containing: "JSON")
    // Wrong version and wrong shape: rewrite the container.
    var st = try SafeTensors(contentsOf: url)
    st.metadata["version"] = "999"
    expectError(try st.encoded(), containing: "version 999")
    st = try SafeTensors(contentsOf: url)
    st.tensors["lmHead.weight"] = .zeros([3, 3])
    expectError(try st.encoded(), containing: "lmHead.weight")
    st = try SafeTensors(contentsOf: url)
    st.metadata["format"] = "other"
    expectError(try st.encoded(), containing: "not a TinyRecursion checkpoint")
    XCTAssertThrowsError(try Checkpoint.loadModel(from: dir.appendingPathComponent("missing.safetensors")))
  }
}

/// "It learns" tests score puzzles the model never trained on, against a threshold that the
/// same model before training, and copying the input, both fall below (each test measures both).
final class LearningTests: XCTestCase {
  /// Training and held-out 4×4 puzzles: no held-out input appears in training.
  static func split(blanks: Int, train: Int, test: Int) -> (train: [Example], test: [Example]) {
    let trainSet = tinySudoku(count: train, blanks: blanks, seed: 12)
    let seen = Set(trainSet.map(\.inputs))
    let heldOut = tinySudoku(count: 4 * test, blanks: blanks, seed: 99).filter { !seen.contains($0.inputs) }
    return (trainSet, Array(heldOut.prefix(test)))
  }

  /// Exact accuracy of copying the input as the answer (blanks stay blank).
  static func copyAccuracy(_ ex: [Example]) -> Double {
    Double(ex.filter { $0.grade($0.inputs).exact }.count) / Double(ex.count)
  }

  func trainAndScore(_ config: ModelConfig, blanks: Int, steps: Int, threshold: Double) throws {
    let (train, test) = Self.split(blanks: blanks, train: 256, test: 64)
    XCTAssertEqual(test.count, 64)
    var tc = TrainingConfig()
    tc.batchSize = 32
    tc.optimizerSteps = steps
    tc.warmupSteps = 20
    tc.learningRate = 3e-3
    tc.weightDecay = 0.01
    tc.emaDecay = 0.98
    tc.threads = 2
    let model = try RecursiveModel(config: config, seed: 13)
    let t = try Trainer(model: model, config: tc, data: train)
    let before = Evaluator.evaluate(model: model, examples: test, halt: false, threads: 2).exactAccuracy
    for _ in 0..<steps { t.trainStep() }
    let after = Evaluator.evaluate(model: try t.evaluationModel(), examples: test, halt: false, threads: 2)
      .exactAccuracy
    let copy = Self.copyAccuracy(test)
    XCTAssertLessThan(copy, threshold, "copying the input must fail this test")
    XCTAssertLessThan(before, threshold, "the untrained model must fail this test")
    XCTAssertGreaterThanOrEqual(
      after, threshold, "\(config.kind) held-out exact accuracy \(after) (untrained \(before), copy \(copy))")
  }

  func testTinyTRMSolvesUnseen4x4Sudoku() throws {
    try trainAndScore(tinyConfig(), blanks: 6, steps: 400, threshold: 0.9)  // measured 96.9%
  }

  func testBaselineSolvesUnseen4x4SudokuWithFewBlanks() throws {
    var c = tinyConfig(kind: .baseline)
    c.blocks = 4
    try trainAndScore(c, blanks: 4, steps: 300, threshold: 0.8)  // measured 100%
  }

  func testSameSeedSameRun() throws {
    let data = tinySudoku(count: 16, blanks: 6, seed: 16)
    var tc = TrainingConfig()
    tc.batchSize = 8
    tc.threads = 2
    func run() throws -> [Double] {
      let t = try Trainer(
        model: try RecursiveModel(config: tinyConfig(mixer: .attention), seed: 17), config: tc, data: data)
      return (0..<6).map { _ in t.trainStep().loss }
    }
    XCTAssertEqual(try run(), try run())
  }
}
