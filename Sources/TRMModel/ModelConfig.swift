import Foundation

/// How tokens exchange information inside a block.
public enum TokenMixer: String, Codable, Sendable, CaseIterable {
  /// Non-causal multi-head self-attention with rotary embeddings (reference: `mlp_t: false`).
  case attention
  /// SwiGLU along the sequence axis on the transposed activations, then RMSNorm over the
  /// sequence axis while still transposed (reference: `mlp_t: true`). Needs a fixed length.
  case mlp
  /// 3×3 convolution over the puzzle grid (zero padding, no positional encoding): local and
  /// size-independent, so one checkpoint runs on any grid size (the recurrent convolutions of
  /// Deep Thinking nets; nano-trm's grid mixer). Needs `gridColumns` and no prefix: the halting
  /// head reads the mean over all cells instead of a prefix position.
  case conv
  /// nano-trm's variant: no separate mixing sublayer; a depthwise 3×3 convolution over the grid
  /// on the SwiGLU hidden channels, between the gate and the down projection. Same grid and
  /// prefix rules as `conv`.
  case depthwise

  /// Whether the mixer is a convolution over the puzzle grid (size-independent, no prefix).
  public var isGridConvolution: Bool { self == .conv || self == .depthwise }
}

/// How long the model thinks: n latent updates per recursion, T recursions per supervision step,
/// up to N_sup supervision steps. No parameter depends on it, so it is a run-time value: the
/// model is built once and every call (`RecursiveModel.step`, evaluation, sweeps) may pass its
/// own budget. A checkpoint stores the budget it was trained with as the default.
public struct RecursionBudget: Codable, Hashable, Sendable {
  /// n: latent updates `z = net(z + y + x)` per full recursion (reference `L_cycles`).
  public var latentSteps: Int
  /// T: full recursions per supervision step; only the last records gradients (reference `H_cycles`).
  public var recursions: Int
  /// N_sup: supervision steps, i.e. answer refinements carried over (reference `halt_max_steps`).
  /// Not to be confused with optimizer steps, which update the weights.
  public var supervisionSteps: Int

  public init(latentSteps: Int, recursions: Int, supervisionSteps: Int) {
    self.latentSteps = latentSteps
    self.recursions = recursions
    self.supervisionSteps = supervisionSteps
  }

  /// Largest n and T (N_sup: 4×): a budget read from a file cannot make a run last for ever.
  public static let limit = 256

  /// Throws unless 0 ≤ n ≤ 256, 1 ≤ T ≤ 256 and 1 ≤ N_sup ≤ 1024.
  public func validate() throws {
    guard latentSteps >= 0, recursions >= 1, supervisionSteps >= 1, latentSteps <= Self.limit, recursions <= Self.limit,
      supervisionSteps <= 4 * Self.limit
    else {
      throw ModelError.invalidConfig(
        "need 0 ≤ latentSteps ≤ 256, 1 ≤ recursions ≤ 256, 1 ≤ supervisionSteps ≤ 1024 "
          + "(got n=\(latentSteps), T=\(recursions), N_sup=\(supervisionSteps))")
    }
  }
}

/// How a solve stops a puzzle before the budget's last supervision step.
public enum StopRule: String, Codable, Sendable, CaseIterable {
  /// At the first step whose halt logit is positive (the head trained with the model).
  case haltingHead = "halting-head"
  /// At the first step (from the second on) that leaves the answer unchanged: does not depend on
  /// the size the head was trained at.
  case untilStable = "until-stable"
}

/// Which network: the recursive TRM or the direct (one pass) baseline.
public enum ModelKind: String, Codable, Sendable, CaseIterable {
  /// Tiny Recursion Model: latent recursion, deep supervision, halting head.
  case trm
  /// Parameter-matched direct predictor: one forward pass of a deeper net, no carry, no halting.
  case baseline
}

/// Architecture and recursion budget. Names follow the TRM paper; the reference code's names
/// are given in each comment.
public struct ModelConfig: Codable, Equatable, Sendable {
  public var kind: ModelKind = .trm
  /// Token vocabulary size, PAD included (reference `vocab_size`).
  public var vocabSize: Int
  /// Puzzle cells per example, without the prefix (reference `seq_len`).
  public var sequenceLength: Int
  /// Hidden width D (reference `hidden_size`).
  public var width: Int = 128
  /// Blocks in the tiny network (reference `L_layers`, 2).
  public var blocks: Int = 2
  /// Attention heads (reference `num_heads`); head dim = width / heads.
  public var heads: Int = 2
  /// Token mixer (reference `mlp_t`).
  public var mixer: TokenMixer = .mlp
  /// Learned prefix positions prepended to the input; position 0 feeds the halting head
  /// (reference `puzzle_emb_len`, 16; here a learned prefix shared by all puzzles). 0 is the
  /// reference benchmark's layout (`trm_torch.py`): the halting head reads the first cell.
  public var prefixLength: Int = 1
  /// SwiGLU expansion (reference `expansion`, 4).
  public var expansion: Double = 4
  /// SwiGLU hidden widths are rounded up to a multiple of this (reference: 256).
  public var swigluMultiple: Int = 64
  /// n: latent updates `z = net(z + y + x)` per full recursion (reference `L_cycles`, 6).
  public var latentSteps: Int = 6
  /// T: full recursions per supervision step; only the last records gradients
  /// (reference `H_cycles`, 3).
  public var recursions: Int = 3
  /// N_sup: maximum supervision steps (reference `halt_max_steps`, 16).
  public var supervisionSteps: Int = 16
  /// Probability that a training slot gets a random minimum number of steps (reference
  /// `halt_exploration_prob`, 0.1).
  public var haltExploration: Double = 0.1
  /// The stop rule a solve uses by default (`Reasoner.stopRule`, `trm solve`); nil: the
  /// halting head. Presets whose head is known to stop too soon set `.untilStable` (the
  /// arithmetic ones: after one step, 91.8% of 4×4 products against 98.4% until stable).
  /// Not used in training; absent from checkpoints that leave it nil.
  public var solveStopRule: StopRule?
  /// Rotary base (reference `rope_theta`).
  public var ropeBase: Double = 10_000
  /// Columns of the puzzle grid (cells in row-major order). Attention mixer: 2-D rotary
  /// positions, so attention sees (Δrow, Δcol) offsets that do not depend on the grid width
  /// (nil: 1-D positions over the flattened sequence, reference behaviour). Conv mixer: the
  /// grid the convolution runs over (required).
  public var gridColumns: Int?

  /// The recursion budget the model is trained with (and, by default, evaluated with).
  public var budget: RecursionBudget {
    get { RecursionBudget(latentSteps: latentSteps, recursions: recursions, supervisionSteps: supervisionSteps) }
    set {
      latentSteps = newValue.latentSteps
      recursions = newValue.recursions
      supervisionSteps = newValue.supervisionSteps
    }
  }

  public init(vocabSize: Int, sequenceLength: Int) {
    self.vocabSize = vocabSize
    self.sequenceLength = sequenceLength
  }

  /// The attention head dim must be a multiple of this: rotary rotates pairs, and 2-D rotary
  /// splits the pairs between the row and column axes.
  public var headDimMultiple: Int { gridColumns == nil ? 2 : 4 }

  /// Rows of the puzzle grid (conv mixer): sequenceLength / gridColumns.
  public var gridRows: Int { gridColumns.map { sequenceLength / max($0, 1) } ?? 1 }

  /// Length of the sequence the network sees: prefix + cells.
  public var totalLength: Int { prefixLength + sequenceLength }

  /// SwiGLU hidden width for an input width: round_up(round(expansion · w · 2/3), multiple).
  public func swigluHidden(_ w: Int) -> Int {
    let raw = Int((expansion * Double(w) * 2 / 3).rounded())
    return (raw + swigluMultiple - 1) / swigluMultiple * swigluMultiple
  }

  /// Trainable scalars, computed from the configuration alone (no allocation), in Double so that
  /// absurd configurations cannot overflow.
  public var parameterCountEstimate: Double {
    let D = Double(width), V = Double(vocabSize), I = Double(swigluHidden(width))
    let Lt = Double(totalLength)
    var block = 3 * D * I
    switch mixer {
    case .attention: block += 4 * D * D
    case .mlp: block += 3 * Lt * Double(swigluHidden(totalLength))
    case .conv: block += 9 * D * D
    case .depthwise: block += 9 * I
    }
    return 2 * V * D + Double(prefixLength) * D + Double(blocks) * block + D + 1
  }

  /// Floats of activations one example needs in one supervision step: with `recording`, every
  /// tensor of the graded recursion's (n + 1) network applications is kept for backward;
  /// without, buffers are reused and about two applications' worth are live. An estimate for
  /// memory checks (within a small factor), not an allocation plan.
  public func activationFloatsPerExample(recording: Bool) -> Double {
    let D = Double(width), I = Double(swigluHidden(width)), Lt = Double(totalLength)
    var perBlock = Lt * (8 * D + 3 * I)
    switch mixer {
    case .attention: perBlock += Double(heads) * Lt * Lt + 3 * Lt * D
    case .mlp: perBlock += D * 3 * Double(swigluHidden(totalLength))
    case .conv: perBlock += 9 * Lt * D
    case .depthwise: perBlock += 9 * Lt * I
    }
    let nets = recording ? Double(kind == .trm ? latentSteps + 1 : 1) : 2
    return nets * Double(blocks) * perBlock + 4 * Lt * D
  }

  /// Largest sizes a configuration may have: far above anything trainable here, low enough that
  /// no size product can overflow and no loop runs for ever.
  public static let limits = (
    vocabulary: 1 << 16, cells: 1 << 20, width: 8192, blocks: 64, prefix: 1024,
    parameters: Double(1 << 31)
  )

  /// Checks the configuration, throwing a descriptive error.
  public func validate() throws {
    func fail(_ s: String) throws { throw ModelError.invalidConfig(s) }
    let lim = Self.limits
    if vocabSize > lim.vocabulary || sequenceLength > lim.cells || width > lim.width || blocks > lim.blocks
      || prefixLength > lim.prefix || expansion > 64 || swigluMultiple > 4096 || heads > width
    {
      try fail(
        "sizes beyond the limits (vocabulary ≤ \(lim.vocabulary), cells ≤ \(lim.cells), width ≤ \(lim.width), "
          + "blocks ≤ \(lim.blocks), prefix ≤ \(lim.prefix), expansion ≤ 64, heads ≤ width)")
    }
    if !expansion.isFinite || !haltExploration.isFinite || !(0...1).contains(haltExploration) || !ropeBase.isFinite {
      try fail("expansion, haltExploration (0…1) and ropeBase must be finite numbers")
    }
    // Lower bounds before anything is computed from the sizes (a zero multiple divides by zero).
    if vocabSize < 2 { try fail("vocabSize must be ≥ 2, got \(vocabSize)") }
    if sequenceLength < 1 { try fail("sequenceLength must be ≥ 1, got \(sequenceLength)") }
    if width < 2 { try fail("width must be ≥ 2, got \(width)") }
    if blocks < 1 { try fail("blocks must be ≥ 1, got \(blocks)") }
    if prefixLength < 0 { try fail("prefixLength must be ≥ 0") }
    if swigluMultiple < 1 || expansion <= 0 { try fail("expansion and swigluMultiple must be positive") }
    if parameterCountEstimate > lim.parameters {
      try fail(
        String(
          format: "%.3g parameters (%.1f GB) is more than this library builds (2^31)", parameterCountEstimate,
          parameterCountEstimate * 4 / 1e9))
    }
    if mixer == .attention {
      if heads < 1 || width % heads != 0 { try fail("width \(width) must be divisible by heads \(heads)") }
      if (width / heads) % headDimMultiple != 0 {
        try fail(
          "head dim \(width / heads) must be a multiple of \(headDimMultiple) for "
            + "\(gridColumns == nil ? "" : "2-D ")rotary embeddings"
        )
      }
      if let g = gridColumns, g < 1 || sequenceLength % g != 0 {
        try fail("gridColumns \(g) must divide the sequence length \(sequenceLength)")
      }
    }
    if mixer.isGridConvolution {
      guard let g = gridColumns, g >= 1, sequenceLength % g == 0 else {
        try fail(
          "the \(mixer.rawValue) mixer needs gridColumns dividing the sequence length \(sequenceLength) (a grid task)");
        return
      }
      if prefixLength != 0 {
        try fail("the \(mixer.rawValue) mixer runs on grid cells only: prefixLength must be 0, got \(prefixLength)")
      }
    }
    try budget.validate()
  }
}

/// Errors for configurations and checkpoints a user hands in.
public enum ModelError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
  case invalidConfig(String)
  case checkpoint(String)
  case shapeMismatch(String)

  public var description: String {
    switch self {
    case .invalidConfig(let s): return "invalid model configuration: \(s)"
    case .checkpoint(let s): return "bad checkpoint: \(s)"
    case .shapeMismatch(let s): return "shape mismatch: \(s)"
    }
  }

  public var errorDescription: String? { description }
}
