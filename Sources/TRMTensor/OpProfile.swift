import Dispatch

/// Where a training or inference step spends its time, by differentiable op and by phase
/// (`TrainBench --profile`). Forward time of an op is the time since the previous op finished
/// (every op computes its value, then records itself; model code between ops is counted with
/// the next op); backward time is each node's gradient closure. Phases outside any graph
/// (optimizer, EMA, slot refill) are added by the trainer. Off by default: a graph without a
/// profile does no timing.
public final class OpProfile {
  public struct Entry: Sendable {
    public var calls = 0
    public var forwardSeconds = 0.0
    public var backwardSeconds = 0.0
    public var total: Double { forwardSeconds + backwardSeconds }
  }

  public private(set) var entries: [String: Entry] = [:]
  var mark: UInt64 = DispatchTime.now().uptimeNanoseconds

  public init() {}

  /// Starts the forward clock (a new graph begins).
  func restart() { mark = DispatchTime.now().uptimeNanoseconds }

  /// An op finished its forward computation.
  func forward(_ op: String) {
    let now = DispatchTime.now().uptimeNanoseconds
    entries[op, default: Entry()].calls += 1
    entries[op, default: Entry()].forwardSeconds += Double(now - mark) / 1e9
    mark = now
  }

  func backward(_ op: String, seconds: Double) { entries[op, default: Entry()].backwardSeconds += seconds }

  /// Times `body` as a phase outside the graphs (counted as forward time under `name`).
  public func phase<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
    let t0 = DispatchTime.now().uptimeNanoseconds
    defer {
      let now = DispatchTime.now().uptimeNanoseconds
      entries[name, default: Entry()].calls += 1
      entries[name, default: Entry()].forwardSeconds += Double(now - t0) / 1e9
      mark = now  // the next op's forward time starts here, not before this phase
    }
    return try body()
  }

  /// Adds time measured elsewhere to `name` (one call).
  public func add(_ name: String, seconds: Double) {
    entries[name, default: Entry()].calls += 1
    entries[name, default: Entry()].forwardSeconds += seconds
  }

  /// GEMM calls by shape and role ("fwd", "dx", "dW"): calls, seconds and FLOPs, so a profile
  /// shows which matrix shapes run below the kernel's speed.
  public struct GemmEntry: Sendable {
    public var calls = 0
    public var seconds = 0.0
    public var flops = 0.0
    public var gflops: Double { seconds > 0 ? flops / seconds / 1e9 : 0 }
  }
  public private(set) var gemms: [String: GemmEntry] = [:]

  /// Times one GEMM of C[m×n] += op(A)[m×k]·op(B)[k×n] under `role`.
  public func gemm<T>(_ role: String, m: Int, n: Int, k: Int, _ body: () throws -> T) rethrows -> T {
    let t0 = DispatchTime.now().uptimeNanoseconds
    defer {
      let key = "\(role) m=\(m) n=\(n) k=\(k)"
      gemms[key, default: GemmEntry()].calls += 1
      gemms[key, default: GemmEntry()].seconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
      gemms[key, default: GemmEntry()].flops += 2 * Double(m) * Double(n) * Double(k)
    }
    return try body()
  }

  /// Clears the counts (after warm-up steps).
  public func reset() {
    entries = [:]
    gemms = [:]
  }

  /// Seconds timed in all.
  public var totalSeconds: Double { entries.values.reduce(0) { $0 + $1.total } }
}

/// Runs `body` timed as `name` when `profile` is set, plainly otherwise.
@inline(__always) @discardableResult
public func profiled<T>(_ profile: OpProfile?, _ name: String, _ body: () throws -> T) rethrows -> T {
  guard let profile else { return try body() }
  return try profile.phase(name, body)
}

/// Runs a GEMM `body` timed by shape when `profile` is set, plainly otherwise.
@inline(__always)
func profiledGemm(_ profile: OpProfile?, _ role: String, m: Int, n: Int, k: Int, _ body: () -> Void) {
  guard let profile else { return body() }
  profile.gemm(role, m: m, n: n, k: k, body)
}
