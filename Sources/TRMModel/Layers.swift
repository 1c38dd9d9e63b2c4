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
  public func callAsFunction(_ g: Graph, _ x: Var) -> Var { down(g, g.linearSwiGLU(x, g.param(gateUp.weight))) }
  var parameters: [Parameter] { [gateUp.weight, down.weight] }
}

/// One post-norm block: h = rms(h + mix(h)); h = rms(h + swiglu(h)).
public struct Block {
  /// The token-mixing sublayer and exactly the weights it owns.
  enum Mixer {
    /// Self-attention: fused q/k/v projection [3D, D] and output projection [D, D].
    case attention(qkv: Linear, out: Linear, heads: Int)
    /// SwiGLU along the sequence axis (width = prefix + cells).
    case mlp(SwiGLU)
    /// Full 3×3 convolution, weight [D, 9D] (taps × input channels, see `conv3x3`).
    case conv(Linear)
    /// Depthwise 3×3 taps [9, I] over the SwiGLU hidden channels (no separate sublayer).
    case depthwise(Parameter)
  }

  let mix: Mixer
  public let mlp: SwiGLU

  /// Which mixer this block uses.
  public var mixer: TokenMixer {
    switch mix {
    case .attention: return .attention
    case .mlp: return .mlp
    case .conv: return .conv
    case .depthwise: return .depthwise
    }
  }

  init(_ name: String, config c: ModelConfig, width: Int, rng: inout SplitMix64) {
    // Initialisation order (mixer, then the block's SwiGLU, then depthwise taps) fixes the
    // weights drawn for a seed; keep it.
    switch c.mixer {
    case .attention:
      let qkv = Linear(name + ".mixer.qkv", input: width, output: 3 * width, rng: &rng)
      let out = Linear(name + ".mixer.out", input: width, output: width, rng: &rng)
      mix = .attention(qkv: qkv, out: out, heads: c.heads)
      mlp = SwiGLU(name + ".mlp", width: width, hidden: c.swigluHidden(width), rng: &rng)
    case .mlp:
      mix = .mlp(SwiGLU(name + ".mixer", width: c.totalLength, hidden: c.swigluHidden(c.totalLength), rng: &rng))
      mlp = SwiGLU(name + ".mlp", width: width, hidden: c.swigluHidden(width), rng: &rng)
    case .conv:
      mix = .conv(Linear(name + ".mixer.conv", input: 9 * width, output: width, rng: &rng))
      mlp = SwiGLU(name + ".mlp", width: width, hidden: c.swigluHidden(width), rng: &rng)
    case .depthwise:
      mlp = SwiGLU(name + ".mlp", width: width, hidden: c.swigluHidden(width), rng: &rng)
      // Depthwise taps: fan-in 9 (one 3×3 window per channel).
      let hidden = c.swigluHidden(width)
      mix = .depthwise(Parameter(name: name + ".mlp.depthwise", value: lecunNormal([9, hidden], fanIn: 9, rng: &rng)))
    }
  }

  /// h [B, L, D] → [B, L, D]. `grid` (rows, columns) is the cell grid of the conv mixers.
  public func callAsFunction(
    _ g: Graph, _ h: Var, rotary: RotaryTables?, grid: (rows: Int, columns: Int) = (1, 1)
  ) -> Var {
    var h = h
    switch mix {
    case .attention(let qkv, let out, let heads):
      let a = g.attention(qkv(g, h), heads: heads, rotary: rotary)
      h = g.addRMSNorm(h, out(g, a))
    case .mlp(let sequenceMLP):
      // Reference mlp_t: mix along the sequence on [B, D, L] and normalise over L while transposed.
      let t = g.transposeLast2(h)
      h = g.transposeLast2(g.addRMSNorm(t, sequenceMLP(g, t)))
    case .conv(let conv):
      h = g.addRMSNorm(h, g.conv3x3(h, g.param(conv.weight), height: grid.rows, width: grid.columns))
    case .depthwise(let taps):
      let hidden = g.depthwise3x3(
        g.linearSwiGLU(h, g.param(mlp.gateUp.weight)), g.param(taps), height: grid.rows, width: grid.columns)
      return g.addRMSNorm(h, mlp.down(g, hidden))
    }
    return g.addRMSNorm(h, mlp(g, h))
  }

  /// The block's parameters in checkpoint order: mixer weights, then the SwiGLU (depthwise taps last).
  var parameters: [Parameter] {
    switch mix {
    case .attention(let qkv, let out, _): return [qkv.weight, out.weight] + mlp.parameters
    case .mlp(let sequenceMLP): return sequenceMLP.parameters + mlp.parameters
    case .conv(let conv): return [conv.weight] + mlp.parameters
    case .depthwise(let taps): return mlp.parameters + [taps]
    }
  }
}
