import Dispatch
/// A value flowing through a `Graph`: its tensor plus, when the graph records, the tape node
/// that will receive its gradient.
public struct Var: @unchecked Sendable {
  /// The computed value.
  public let value: Tensor
  /// Tape index, or −1 when no gradient flows to this value (constants, detached values,
  /// anything computed by a non-recording graph).
  public let id: Int

  public var shape: [Int] { value.shape }
  /// Whether a gradient will flow back into this value.
  public var requiresGrad: Bool { id >= 0 }
}

/// Reverse-mode automatic differentiation over whole-tensor ops (a tape in execution order,
/// which is already a topological order).
///
/// Gradient recording is explicit: `Graph(recording: true)` records every op whose inputs need
/// a gradient; `Graph(recording: false)` is inference mode and records nothing. Values leave
/// the tape only through `detach` or by reading `.value`. There is no global "grad mode".
///
/// Op outputs and gradient buffers come from the graph's `BufferPool`; when a graph and its
/// values are released, the buffers go back to the pool for the next step.
public final class Graph {
  /// Whether ops are recorded for `backward`.
  public let isRecording: Bool
  /// Worker threads for the kernels.
  public let threads: Int
  /// Where op outputs and gradients are allocated.
  public let pool: BufferPool?
  /// Per-op timing (nil: none). Setting it starts the forward clock.
  public var profile: OpProfile? { didSet { profile?.restart() } }

  final class Node {
    let shape: [Int]
    /// The op that made the node (for `OpProfile`).
    var op = ""
    var grad: Tensor?
    let parameter: Parameter?
    var backward: ((Graph, UnsafePointer<Float>) -> Void)?
    init(shape: [Int], parameter: Parameter?, backward: ((Graph, UnsafePointer<Float>) -> Void)?) {
      self.shape = shape
      self.parameter = parameter
      self.backward = backward
    }
  }

  var nodes: [Node] = []

  /// Where parameter gradients go on `backward`: false (default) accumulates them into
  /// `Parameter.grad`; true keeps them in the graph (`parameterGradient(_:)`), so that several
  /// graphs over the same parameters can run backward at the same time (micro-batches on
  /// threads) and their caller sums them in a fixed order.
  public let ownsParameterGradients: Bool
  private var ownedGradients: [ObjectIdentifier: Tensor] = [:]

  public init(recording: Bool, threads: Int = 1, pool: BufferPool? = nil, ownsParameterGradients: Bool = false) {
    precondition(threads >= 1, "threads must be ≥ 1, got \(threads)")
    isRecording = recording
    self.threads = threads
    self.pool = pool
    self.ownsParameterGradients = ownsParameterGradients
  }

  /// The gradient this graph's `backward` computed for `p` (graphs that own their parameter
  /// gradients; nil when none flowed to `p`).
  public func parameterGradient(_ p: Parameter) -> Tensor? { ownedGradients[ObjectIdentifier(p)] }

  /// Number of recorded nodes (for tests of what was and was not recorded).
  public var recordedCount: Int { nodes.count }

  /// A parameter as a leaf; its gradient accumulates into `parameter.grad` on `backward`.
  public func param(_ p: Parameter) -> Var {
    guard isRecording else { return Var(value: p.value, id: -1) }
    nodes.append(Node(shape: p.shape, parameter: p, backward: nil))
    return Var(value: p.value, id: nodes.count - 1)
  }

  /// A constant input: no gradient flows into it.
  public func constant(_ t: Tensor) -> Var { Var(value: t, id: -1) }

  /// The same value with the gradient path cut.
  public func detach(_ v: Var) -> Var { Var(value: v.value, id: -1) }

  /// A fresh output tensor from the pool.
  func alloc(_ shape: [Int]) -> Tensor { Tensor(uninitializedShape: shape, pool: pool) }

  /// Records an op output. `backward` receives the output gradient and must *accumulate* into
  /// its inputs' gradient buffers via `gradBuffer(for:)`.
  func record(
    _ value: Tensor, inputs: [Var], op: String = #function, backward: @escaping (Graph, UnsafePointer<Float>) -> Void
  ) -> Var {
    let name = profile.map { _ in String(op.prefix { $0 != "(" }) }
    if let name { profile?.forward(name) }
    guard isRecording, inputs.contains(where: \.requiresGrad) else { return Var(value: value, id: -1) }
    nodes.append(Node(shape: value.shape, parameter: nil, backward: backward))
    if let name { nodes[nodes.count - 1].op = name }
    return Var(value: value, id: nodes.count - 1)
  }

  /// The (zero-initialised on first use) gradient buffer of a recorded value, or nil when the
  /// value needs no gradient.
  func gradBuffer(for v: Var) -> UnsafeMutablePointer<Float>? {
    guard v.id >= 0 else { return nil }
    let node = nodes[v.id]
    if node.grad == nil {
      let g = Tensor(repeating: 0, shape: node.shape, pool: pool)
      node.grad = g
    }
    return node.grad!.storage.pointer
  }

  /// The gradient buffer of a recorded value for an op whose backward writes every element:
  /// on the first gradient to reach the value the buffer is left uninitialised and `accumulate`
  /// is false (the op stores), afterwards it is the existing buffer and `accumulate` is true
  /// (the op adds) — one zero-fill and one read fewer per activation gradient than
  /// `gradBuffer(for:)`. Nil when the value needs no gradient.
  func gradTarget(for v: Var) -> (pointer: UnsafeMutablePointer<Float>, accumulate: Bool)? {
    guard v.id >= 0 else { return nil }
    let node = nodes[v.id]
    if let g = node.grad { return (g.storage.pointer, true) }
    let g = Tensor(uninitializedShape: node.shape, pool: pool)
    node.grad = g
    return (g.storage.pointer, false)
  }

  /// Back-propagates from `output` with seed gradient `seed` (default: ones, i.e. d(sum)/d·).
  /// Parameter gradients accumulate into `Parameter.grad`.
  public func backward(_ output: Var, seed: Tensor? = nil) {
    precondition(isRecording, "backward on a graph that does not record")
    guard output.id >= 0 else { return }
    if let seed {
      precondition(seed.shape == output.shape, "seed shape \(seed.shape) ≠ output shape \(output.shape)")
    }
    let gOut = gradBuffer(for: output)!
    let n = output.value.count
    if let seed { gOut.update(from: seed.data, count: n) } else { gOut.update(repeating: 1, count: n) }
    for i in stride(from: nodes.count - 1, through: 0, by: -1) {
      let node = nodes[i]
      guard let g = node.grad else { continue }
      if let p = node.parameter {
        if !ownsParameterGradients {
          p.grad.withMutableData { dst in axpyInto(dst, g.data, g.count) }
        } else if var owned = ownedGradients.removeValue(forKey: ObjectIdentifier(p)) {
          owned.withMutableData { dst in axpyInto(dst, g.data, g.count) }
          ownedGradients[ObjectIdentifier(p)] = owned
        } else {
          ownedGradients[ObjectIdentifier(p)] = g  // the leaf's buffer becomes the gradient
        }
      } else if let bw = node.backward {
        if let profile {
          let t0 = DispatchTime.now().uptimeNanoseconds
          bw(self, g.data)
          profile.backward(node.op, seconds: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        } else {
          bw(self, g.data)
        }
      }
      node.grad = nil  // free as we go: the gradient, and the activations the closure kept
      node.backward = nil
    }
    nodes.removeAll(keepingCapacity: true)
  }
}

import TRMKernels

@inline(__always) func axpyInto(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
  axpy(1, x, y, n)
}
