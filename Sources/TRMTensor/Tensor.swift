import Foundation
import TRMKernels

// MARK: - Buffer pool

/// A free list of float buffers keyed by capacity.
///
/// Tensors allocated from a pool hand their buffer back when the last reference goes away, so a
/// training loop that builds the same graph every step reuses the same buffers instead of
/// allocating new ones: memory stays flat across steps. Owned by whoever drives the computation
/// (a trainer, an evaluator); there is no global pool.
public final class BufferPool: @unchecked Sendable {
  private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
  private let lock = NSLock()
  /// Buffers currently handed out plus held in the free list (floats), for memory tests.
  public private(set) var floatsOwned = 0
  /// GEMM packing space reused by the graphs that allocate from this pool.
  public let gemmWorkspace = GemmWorkspace()

  public init() {}

  deinit {
    for (_, list) in free { for p in list { deallocateFloats(p) } }
  }

  func take(_ capacity: Int) -> UnsafeMutablePointer<Float> {
    lock.lock()
    defer { lock.unlock() }
    if var list = free[capacity], let p = list.popLast() {
      free[capacity] = list
      return p
    }
    floatsOwned += capacity
    return allocateFloats(capacity)
  }

  func giveBack(_ p: UnsafeMutablePointer<Float>, _ capacity: Int) {
    lock.lock()
    free[capacity, default: []].append(p)
    lock.unlock()
  }
}

/// The memory behind a tensor (cache-line aligned: `allocateFloats`). Returns itself to its pool
/// (if any) when released.
public final class TensorStorage: @unchecked Sendable {
  public let pointer: UnsafeMutablePointer<Float>
  public let capacity: Int
  let pool: BufferPool?

  init(capacity: Int, pool: BufferPool?) {
    self.capacity = capacity
    self.pool = pool
    pointer = pool?.take(capacity) ?? allocateFloats(capacity)
  }

  deinit {
    if let pool { pool.giveBack(pointer, capacity) } else { deallocateFloats(pointer) }
  }
}

// MARK: - Tensor

/// A dense, contiguous, row-major Float32 tensor.
///
/// A value type: copies share storage until one of them is mutated (copy on write through
/// `withMutableData`). Ops never mutate their inputs.
public struct Tensor: @unchecked Sendable, CustomStringConvertible {
  /// Extent of each axis, outermost first.
  public let shape: [Int]
  public private(set) var storage: TensorStorage

  /// Number of elements (product of the shape).
  public var count: Int { shape.reduce(1, *) }
  public var rank: Int { shape.count }

  /// Uninitialized tensor (contents undefined), optionally from a pool.
  public init(uninitializedShape shape: [Int], pool: BufferPool? = nil) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
    self.shape = shape
    storage = TensorStorage(capacity: shape.reduce(1, *), pool: pool)
  }

  /// Tensor filled with `value`.
  public init(repeating value: Float, shape: [Int], pool: BufferPool? = nil) {
    self.init(uninitializedShape: shape, pool: pool)
    storage.pointer.update(repeating: value, count: count)
  }

  /// Zero tensor.
  public static func zeros(_ shape: [Int], pool: BufferPool? = nil) -> Tensor {
    Tensor(repeating: 0, shape: shape, pool: pool)
  }

  /// Tensor from values; `values.count` must equal the product of `shape`.
  public init(_ values: [Float], shape: [Int]) {
    precondition(values.count == shape.reduce(1, *), "\(values.count) values do not fill shape \(shape)")
    self.init(uninitializedShape: shape)
    values.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: values.count) }
  }

  /// Same storage, new shape with the same element count.
  public func reshaped(_ newShape: [Int]) -> Tensor {
    precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
    return Tensor(shape: newShape, storage: storage)
  }

  init(shape: [Int], storage: TensorStorage) {
    self.shape = shape
    self.storage = storage
  }

  /// Read-only pointer to the elements.
  public var data: UnsafePointer<Float> { UnsafePointer(storage.pointer) }

  /// The elements as an array.
  public var scalars: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

  /// Element at a flat index.
  public subscript(flat i: Int) -> Float { storage.pointer[i] }

  /// Mutable access; copies the storage first if it is shared.
  public mutating func withMutableData<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
    if !isKnownUniquelyReferenced(&storage) {
      let fresh = TensorStorage(capacity: count, pool: nil)
      fresh.pointer.update(from: storage.pointer, count: count)
      storage = fresh
    }
    return try body(storage.pointer)
  }

  /// A deep copy with its own (unpooled) storage.
  public func copy() -> Tensor {
    let t = Tensor(uninitializedShape: shape)
    t.storage.pointer.update(from: storage.pointer, count: count)
    return t
  }

  public var description: String {
    let preview = scalars.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
    return "Tensor\(shape)[\(preview)\(count > 8 ? ", …" : "")]"
  }
}

// MARK: - Parameter

/// A trainable tensor with its gradient. Gradients accumulate across backward passes until
/// `zeroGrad()`.
public final class Parameter: @unchecked Sendable {
  /// Dotted name, also the checkpoint key (e.g. `net.blocks.0.mlp.gateUp.weight`).
  public let name: String
  public var value: Tensor
  public var grad: Tensor
  /// Whether AdamW applies weight decay to it.
  public let decays: Bool

  public init(name: String, value: Tensor, decays: Bool = true) {
    self.name = name
    self.value = value
    self.grad = .zeros(value.shape)
    self.decays = decays
  }

  public var shape: [Int] { value.shape }

  public func zeroGrad() {
    let n = grad.count
    grad.withMutableData { $0.update(repeating: 0, count: n) }
  }
}
