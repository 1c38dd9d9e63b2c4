import TRMKernels
import TRMRandom
import TRMTensor

/// Truncated LeCun-normal init (std 1/√fanIn, cut at ±2 std), reference `trunc_normal_init_`.
func lecunNormal(_ shape: [Int], fanIn: Int, rng: inout SplitMix64) -> Tensor {
  truncatedNormal(shape, std: 1 / Double(fanIn).squareRoot(), rng: &rng)
}

func truncatedNormal(_ shape: [Int], std: Double, rng: inout SplitMix64) -> Tensor {
  let n = shape.reduce(1, *)
  return Tensor((0..<n).map { _ in Float(rng.nextTruncatedNormal(std: std)) }, shape: shape)
}

/// A bias-free linear layer, weight [out, in] (PyTorch layout).
public struct Linear {
  public let weight: Parameter
  init(_ name: String, input: Int, output: Int, rng: inout SplitMix64) {
    weight = Parameter(name: name + ".weight", value: lecunNormal([output, input], fanIn: input, rng: &rng))
  }
  public func callAsFunction(_ g: Graph, _ x: Var) -> Var { g.linear(x, g.param(weight)) }
}

/// SwiGLU MLP with a fused gate/up projection: down(silu(gate(x)) ⊙ up(x)).
public struct SwiGLU {
  public let gateUp: Linear, down: Linear
  init(_ name: String, width: Int, hidden: Int, rng: inout SplitMix64) {
    gateUp = Linear(name + ".gateUp", input: width, output: 2 * hidden, rng: &rng)
    down = Linear(name + ".down", input: hidden, output: width, rng: &rng)
  }
  public func callAsFunction(_ g: Graph, _ x: Var) -> Var { down(g, g.swiglu(gateUp(g, x))) }
  var parameters: [Parameter] { [gateUp.weight, down.weight] }
}

/// One post-norm block: h = rms(h + mix(h)); h = rms(h + swiglu(h)).
public struct Block {
  public let mixer: TokenMixer
  let qkv: Linear?, out: Linear?, heads: Int
  let sequenceMLP: SwiGLU?
  /// Conv mixer weight [D, 9D] (taps × input channels, see `conv3x3`).
  let conv: Linear?
  /// Depthwise mixer weight [9, I] over the SwiGLU hidden channels.
  let depthwise: Parameter?
  public let mlp: SwiGLU

  init(_ name: String, config c: ModelConfig, width: Int, rng: inout SplitMix64) {
    mixer = c.mixer
    heads = c.heads
    switch c.mixer {
    case .attention:
      qkv = Linear(name + ".mixer.qkv", input: width, output: 3 * width, rng: &rng)
      out = Linear(name + ".mixer.out", input: width, output: width, rng: &rng)
      sequenceMLP = nil
      conv = nil
    case .mlp:
      qkv = nil
      out = nil
      sequenceMLP = SwiGLU(name + ".mixer", width: c.totalLength, hidden: c.swigluHidden(c.totalLength), rng: &rng)
      conv = nil
    case .conv, .depthwise:
      qkv = nil
      out = nil
      sequenceMLP = nil
      conv = c.mixer == .conv ? Linear(name + ".mixer.conv", input: 9 * width, output: width, rng: &rng) : nil
    }
    mlp = SwiGLU(name + ".mlp", width: width, hidden: c.swigluHidden(width), rng: &rng)
    // Depthwise taps: fan-in 9 (one 3×3 window per channel).
    depthwise = c.mixer == .depthwise
      ? Parameter(name: name + ".mlp.depthwise", value: lecunNormal([9, c.swigluHidden(width)], fanIn: 9, rng: &rng)) : nil
  }

  /// h [B, L, D] → [B, L, D]. `grid` (rows, columns) is the cell grid of the conv mixer.
  public func callAsFunction(_ g: Graph, _ h: Var, rotary: RotaryTables?, grid: (rows: Int, columns: Int) = (1, 1)) -> Var {
    var h = h
    switch mixer {
    case .attention:
      let a = g.attention(qkv!(g, h), heads: heads, rotary: rotary)
      h = g.addRMSNorm(h, out!(g, a))
    case .mlp:
      // Reference mlp_t: mix along the sequence on [B, D, L] and normalise over L while transposed.
      let t = g.transposeLast2(h)
      h = g.transposeLast2(g.addRMSNorm(t, sequenceMLP!(g, t)))
    case .conv:
      h = g.addRMSNorm(h, g.conv3x3(h, g.param(conv!.weight), height: grid.rows, width: grid.columns))
    case .depthwise:
      let hidden = g.depthwise3x3(g.swiglu(mlp.gateUp(g, h)), g.param(depthwise!), height: grid.rows, width: grid.columns)
      return g.addRMSNorm(h, mlp.down(g, hidden))
    }
    return g.addRMSNorm(h, mlp(g, h))
  }

  var parameters: [Parameter] {
    var list: [Parameter] = []
    if let qkv { list.append(qkv.weight) }
    if let out { list.append(out.weight) }
    if let sequenceMLP { list += sequenceMLP.parameters }
    if let conv { list.append(conv.weight) }
    return list + mlp.parameters + (depthwise.map { [$0] } ?? [])
  }
}
