import TRMKernels
import TRMRandom
import TRMTensor

/// The latent state carried across supervision steps: answer embedding y (reference `z_H`) and
/// latent scratchpad z (reference `z_L`), each [B, prefix + L, D]. Always detached.
public struct Carry {
  public var y: Tensor
  public var z: Tensor
  public init(y: Tensor, z: Tensor) {
    self.y = y
    self.z = z
  }
}

/// What one supervision step returns.
public struct StepOutput {
  /// Logits over the puzzle cells [B, L, V] (prefix positions dropped).
  public let logits: Var
  /// Halting logit per example [B] (nil for the baseline).
  public let haltLogits: Var?
  /// The carry for the next step (detached).
  public let carry: Carry
}

/// A Tiny Recursion Model, or its parameter-matched direct baseline (`config.kind`).
///
/// TRM forward for one supervision step (reference `TinyRecursiveReasoningModel_ACTV1`):
/// ```
/// x = embed(tokens) · √D            (with the learned prefix in front)
/// repeat T − 1 times, recording nothing:  (y, z) = recursion(x, y, z)
/// once more, recorded:                    (y, z) = recursion(x, y, z)
/// recursion: n times z = net(z + y + x); then y = net(y + z)
/// logits = lmHead(y), halt = qHead(y[:, 0]); carry (y, z) detached
/// ```
/// The baseline runs `net(x)` once with its (deeper, narrower) block stack.
public final class RecursiveModel {
  public let config: ModelConfig
  public let embedding: Parameter
  public let prefix: Parameter?
  public let blocks: [Block]
  public let lmHead: Linear
  public let haltWeight: Parameter?
  public let haltBias: Parameter?
  /// Fixed initial y and z vectors [D], broadcast over positions (reference `H_init`, `L_init`).
  public private(set) var yInit: Tensor
  public private(set) var zInit: Tensor
  let rotary: RotaryTables?

  /// Builds a freshly initialised model. Same config and seed → same weights.
  public init(config: ModelConfig, seed: UInt64) throws {
    try config.validate()
    self.config = config
    var rng = SplitMix64(seed: seed)
    let D = config.width
    embedding = Parameter(
      name: "embedding.weight",
      value: truncatedNormal([config.vocabSize, D], std: 1 / Double(D).squareRoot(), rng: &rng))
    prefix = config.prefixLength > 0 ? Parameter(name: "prefix", value: .zeros([config.prefixLength, D])) : nil
    blocks = (0..<config.blocks).map { Block("net.blocks.\($0)", config: config, width: D, rng: &rng) }
    lmHead = Linear("lmHead", input: D, output: config.vocabSize, rng: &rng)
    if config.kind == .trm {
      haltWeight = Parameter(name: "haltHead.weight", value: .zeros([1, D]))
      haltBias = Parameter(name: "haltHead.bias", value: Tensor([-5], shape: [1]), decays: false)
    } else {
      haltWeight = nil
      haltBias = nil
    }
    yInit = truncatedNormal([D], std: 1, rng: &rng)
    zInit = truncatedNormal([D], std: 1, rng: &rng)
    rotary = Self.rotaryTables(for: config)
  }

  /// The same weights (shared, not copied) for another puzzle length: conv and attention
  /// mixers only, whose parameters do not depend on the length (rotary tables are rebuilt).
  /// Used for size extrapolation. A model on a grid needs the new grid's column count.
  public func resized(sequenceLength: Int, gridColumns: Int? = nil) throws -> RecursiveModel {
    if sequenceLength == config.sequenceLength && (gridColumns == nil || gridColumns == config.gridColumns) {
      return self
    }
    guard config.mixer != .mlp else {
      throw ModelError.invalidConfig(
        "the MLP mixer's weights are sized by the sequence length: this model runs on "
          + "\(config.sequenceLength) cells only, not \(sequenceLength) (train with --mixer conv or attention for "
          + "other sizes)"
      )
    }
    if config.gridColumns != nil && gridColumns == nil {
      throw ModelError.invalidConfig("this model works on a grid: give the new grid's column count")
    }
    var c = config
    c.sequenceLength = sequenceLength
    if config.gridColumns != nil, let gridColumns { c.gridColumns = gridColumns }
    try c.validate()
    return RecursiveModel(sharing: self, config: c)
  }

  /// A model with `config` that uses `other`'s parameter objects (same names and shapes).
  private init(sharing other: RecursiveModel, config c: ModelConfig) {
    config = c
    embedding = other.embedding
    prefix = other.prefix
    blocks = other.blocks
    lmHead = other.lmHead
    haltWeight = other.haltWeight
    haltBias = other.haltBias
    yInit = other.yInit
    zInit = other.zInit
    rotary = Self.rotaryTables(for: c)
  }

  static func rotaryTables(for c: ModelConfig) -> RotaryTables? {
    guard c.mixer == .attention else { return nil }
    return RotaryTables(
      length: c.totalLength, headDim: c.width / c.heads, base: c.ropeBase,
      grid: c.gridColumns.map { ($0, c.prefixLength) })
  }

  /// Every trainable parameter in a fixed order, with dotted names (also checkpoint keys).
  public var parameters: [Parameter] {
    var list: [Parameter] = [embedding]
    if let prefix { list.append(prefix) }
    for b in blocks { list += b.parameters }
    list.append(lmHead.weight)
    if let haltWeight { list.append(haltWeight) }
    if let haltBias { list.append(haltBias) }
    return list
  }

  /// Number of trainable scalars.
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

  /// Copies `other`'s weights into this model (parameters by name and shape, and the y/z
  /// inits): training that starts from another run's weights (`trm train --init`), e.g. a
  /// conv model trained on small grids continued on bigger ones. The recursion budget and the
  /// grid size may differ; every parameter must match.
  public func loadWeights(from other: RecursiveModel) throws {
    let theirs = Dictionary(other.parameters.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    let mismatched = parameters.filter { p in theirs[p.name]?.shape != p.shape }.map(\.name)
    guard mismatched.isEmpty, theirs.count == parameters.count, other.config.width == config.width else {
      throw ModelError.invalidConfig(
        "the weights do not fit this model: theirs are \(other.config.kind.rawValue), width \(other.config.width), "
          + "\(other.config.blocks) blocks, \(other.config.mixer.rawValue) mixer, \(other.parameterCount) parameters; "
          + "this one is \(config.kind.rawValue), width \(config.width), \(config.blocks) blocks, "
          + "\(config.mixer.rawValue) mixer, \(parameterCount) parameters"
          + (mismatched.isEmpty ? "" : " (first differing tensor: \(mismatched[0]))"))
    }
    for p in parameters { p.value = Tensor(theirs[p.name]!.value.scalars, shape: p.shape) }
    try setInits(
      y: Tensor(other.yInit.scalars, shape: [config.width]), z: Tensor(other.zInit.scalars, shape: [config.width]))
  }

  /// Replaces the fixed y/z init vectors (checkpoint loading).
  package func setInits(y: Tensor, z: Tensor) throws {
    guard y.shape == [config.width], z.shape == [config.width] else {
      throw ModelError.shapeMismatch("yInit/zInit must be [\(config.width)], got \(y.shape) and \(z.shape)")
    }
    yInit = y
    zInit = z
  }

  // MARK: - Pieces

  /// x = [prefix; embed(tokens)] · √D, [B, P + L, D].
  public func embed(_ g: Graph, tokens: [Int32], batch: Int) -> Var {
    let L = config.sequenceLength, D = config.width
    precondition(tokens.count == batch * L, "embed: \(tokens.count) tokens for batch \(batch) × length \(L)")
    var h = g.embedding(tokens, shape: [batch, L], table: g.param(embedding))
    if let prefix {
      let broadcast = g.add(g.constant(.zeros([batch, config.prefixLength, D], pool: g.pool)), g.param(prefix))
      h = g.concat(broadcast, h)
    }
    return g.scale(h, Float(D).squareRoot())
  }

  /// The tiny network: h = blocks(h + injection).
  public func net(_ g: Graph, _ h: Var, injection: Var?) -> Var {
    var h = injection.map { g.add(h, $0) } ?? h
    let grid = (rows: config.gridRows, columns: config.gridColumns ?? 1)
    for b in blocks { h = b(g, h, rotary: rotary, grid: grid) }
    return h
  }

  /// One full recursion: n times z = net(z + y + x), then y = net(y + z).
  public func recursion(_ g: Graph, x: Var, y: Var, z: Var, latentSteps n: Int) -> (y: Var, z: Var) {
    var z = z
    for _ in 0..<n { z = net(g, z, injection: g.add(y, x)) }
    let y = net(g, y, injection: z)
    return (y, z)
  }

  /// A fresh carry for a batch: y and z init vectors broadcast over positions.
  public func initialCarry(batch: Int) -> Carry {
    let n = batch * config.totalLength, D = config.width
    var y = Tensor(uninitializedShape: [batch, config.totalLength, D])
    var z = y.copy()
    y.withMutableData { p in for i in 0..<n { (p + i * D).update(from: yInit.data, count: D) } }
    z.withMutableData { p in for i in 0..<n { (p + i * D).update(from: zInit.data, count: D) } }
    return Carry(y: y, z: z)
  }

  /// Resets the carry of one batch row to the init vectors.
  public func resetCarry(_ carry: inout Carry, row: Int) {
    let n = config.totalLength, D = config.width
    carry.y.withMutableData { p in for i in 0..<n { (p + (row * n + i) * D).update(from: yInit.data, count: D) } }
    carry.z.withMutableData { p in for i in 0..<n { (p + (row * n + i) * D).update(from: zInit.data, count: D) } }
  }

  /// One supervision step on graph `g` (recording or not). The T−1 gradient-free recursions
  /// always run on a non-recording graph, so no gradient can leak from them.
  /// - Parameter gradientRecursions: how many final recursions record gradients (1 = the
  ///   reference; T = full backprop, for ablations).
  /// - Parameter budget: n and T for this step (nil: the trained budget, `config.budget`); N_sup
  ///   is the caller's loop. Any budget runs on the same weights.
  /// - Parameter oneStepGradient: ablation (paper Table 1, "1-step gradient"): in the recorded
  ///   recursion, the first n − 1 latent updates also run without recording, so gradients flow
  ///   only through the last z update and the y update.
  public func step(
    _ g: Graph, tokens: [Int32], carry: Carry, budget: RecursionBudget? = nil, gradientRecursions: Int = 1,
    oneStepGradient: Bool = false
  ) -> StepOutput {
    let budget = budget ?? config.budget
    let n = budget.latentSteps, T = budget.recursions
    let B = tokens.count / config.sequenceLength
    let P = config.prefixLength, L = config.sequenceLength
    let x = embed(g, tokens: tokens, batch: B)
    let h: Var
    var newCarry = carry
    switch config.kind {
    case .baseline:
      h = net(g, x, injection: nil)
    case .trm:
      let free = max(0, T - max(1, gradientRecursions))
      var yv = carry.y, zv = carry.z
      if free > 0 {
        let ng = Graph(recording: false, threads: g.threads, pool: g.pool)
        ng.profile = g.profile  // the gradient-free recursions are timed too
        let xc = ng.constant(x.value)
        var y = ng.constant(yv), z = ng.constant(zv)
        for _ in 0..<free { (y, z) = recursion(ng, x: xc, y: y, z: z, latentSteps: n) }
        yv = y.value
        zv = z.value
      }
      var y = g.constant(yv), z = g.constant(zv)
      if oneStepGradient && g.isRecording && n > 1 {
        let ng = Graph(recording: false, threads: g.threads, pool: g.pool)
        ng.profile = g.profile  // the gradient-free recursions are timed too
        let xc = ng.constant(x.value), yc = ng.constant(yv)
        var zc = ng.constant(zv)
        for _ in 0..<(n - 1) { zc = net(ng, zc, injection: ng.add(yc, xc)) }
        z = net(g, g.constant(zc.value), injection: g.add(y, x))
        y = net(g, y, injection: z)
      } else {
        for _ in 0..<(T - free) { (y, z) = recursion(g, x: x, y: y, z: z, latentSteps: n) }
      }
      newCarry = Carry(y: y.value, z: z.value)
      h = y
    }
    let cells = P > 0 ? g.slice(h, axis1: P..<(P + L)) : h
    let logits = lmHead(g, cells)
    var halt: Var? = nil
    if let haltWeight, let haltBias {
      // Position 0 (the prefix, or the first cell without one, as in the reference); the grid
      // convolutions have no prefix and read the cell mean, which does not depend on the grid size.
      let first =
        config.mixer.isGridConvolution ? g.meanAxis1(h) : g.reshape(g.slice(h, axis1: 0..<1), [B, config.width])
      halt = g.reshape(g.add(g.linear(first, g.param(haltWeight)), g.param(haltBias)), [B])
    }
    return StepOutput(logits: logits, haltLogits: halt, carry: newCarry)
  }

  /// Analytic matmul FLOPs of one forward supervision step for one example (same counting as
  /// the PyTorch reference benchmark: 2·M·K·N for every product, attention scores included).
  public func forwardFlopsPerExample(budget: RecursionBudget? = nil) -> Double {
    let b = budget ?? config.budget
    let c = config, D = Double(c.width), Lt = Double(c.totalLength), V = Double(c.vocabSize)
    let I = Double(c.swigluHidden(c.width))
    var perToken = 6 * D * I
    switch c.mixer {
    case .mlp: perToken += 6 * D * Double(c.swigluHidden(c.totalLength))
    case .attention: perToken += 2 * D * 3 * D + 2 * D * D + 4 * Lt * D
    case .conv: perToken += 2 * 9 * D * D
    case .depthwise: perToken += 2 * 9 * I
    }
    let fNet = Double(c.blocks) * Lt * perToken
    let heads = 2 * Double(c.sequenceLength) * D * V + 2 * D
    switch c.kind {
    case .baseline: return fNet + heads
    case .trm: return Double(b.recursions * (b.latentSteps + 1)) * fNet + heads
    }
  }

  /// FLOPs of one training supervision step per example (forward + 2× forward for the graded recursion).
  public func trainFlopsPerExample() -> Double {
    let c = config
    let fwd = forwardFlopsPerExample()
    guard c.kind == .trm else { return 3 * fwd }
    let heads = 2 * Double(c.sequenceLength) * Double(c.width) * Double(c.vocabSize) + 2 * Double(c.width)
    let fNet = (fwd - heads) / Double(c.recursions * (c.latentSteps + 1))
    return Double((c.recursions - 1) * (c.latentSteps + 1)) * fNet + 3 * (Double(c.latentSteps + 1) * fNet + heads)
  }
}
