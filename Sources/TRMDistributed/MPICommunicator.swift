import Foundation
import TRMTraining

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// MPI, loaded at run time with `dlopen`: the package links nothing new, and without MPI (or
/// with one process) nothing changes. Open MPI and MPICH differ in their handle types: Open MPI's
/// communicators, datatypes and operations are pointers to exported globals (found with `dlsym`;
/// the library must be opened `RTLD_GLOBAL` for its plugins), MPICH's are fixed integers.
///
/// Functions used: MPI_Initialized, MPI_Init, MPI_Comm_rank, MPI_Comm_size, MPI_Allreduce,
/// MPI_Bcast, MPI_Abort, MPI_Finalize. Errors stay fatal (MPI's default handler): a rank that
/// fails ends the job, so no process waits for ever.
public final class MPICommunicator: Communicator {
  public let rank: Int
  public let size: Int
  /// Which implementation was loaded, and from where.
  public let implementation: String
  let handle: UnsafeMutableRawPointer
  let api: API

  /// The environment variables launchers set for every process (mpiexec of Open MPI, MPICH's
  /// Hydra, PMIx, Slurm's srun).
  static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK", "SLURM_NTASKS"]

  /// Library names tried, in order (only `TRM_MPI_LIBRARY` when it is set: an explicit choice).
  static var candidates: [String] {
    if let custom = ProcessInfo.processInfo.environment["TRM_MPI_LIBRARY"] { return [custom] }
    return [
      "libmpi.so.40", "libmpi.so.12", "libmpich.so.12", "libmpi.so", "libmpich.so", "libmpi.40.dylib",
      "libmpi.12.dylib", "libmpi.dylib", "libmpich.dylib",
    ]
  }

  /// Whether this process was started by an MPI launcher with more than one process.
  public static var launchedInParallel: Bool {
    let env = ProcessInfo.processInfo.environment
    for name in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"] {
      if let v = env[name], let n = Int(v), n > 1 { return true }
    }
    return env["PMIX_RANK"] != nil && env["OMPI_COMM_WORLD_SIZE"] == nil
  }

  enum API {
    /// Open MPI: handles are addresses of exported globals.
    case pointers(
      allreduce:
        @convention(c) (
          UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, OpaquePointer?, OpaquePointer?,
          OpaquePointer?
        ) -> Int32,
      bcast: @convention(c) (UnsafeMutableRawPointer?, Int32, OpaquePointer?, Int32, OpaquePointer?) -> Int32,
      abort: @convention(c) (OpaquePointer?, Int32) -> Int32,
      world: OpaquePointer, float: OpaquePointer, double: OpaquePointer, sum: OpaquePointer)
    /// MPICH: handles are 32-bit integers fixed by its header.
    case integers(
      allreduce: @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Int32, Int32, Int32) -> Int32,
      bcast: @convention(c) (UnsafeMutableRawPointer?, Int32, Int32, Int32, Int32) -> Int32,
      abort: @convention(c) (Int32, Int32) -> Int32)
  }

  // MPICH's fixed handle values (mpi.h).
  static let mpichWorld: Int32 = 0x4400_0000, mpichFloat: Int32 = 0x4c00_040a, mpichDouble: Int32 = 0x4c00_080b
  static let mpichSum: Int32 = 0x5800_0003

  /// Opens MPI and initialises it. Throws, naming every library tried, when none loads.
  public init() throws {
    var opened: (UnsafeMutableRawPointer, String)? = nil
    for name in Self.candidates {
      if let h = dlopen(name, RTLD_NOW | RTLD_GLOBAL) {
        opened = (h, name)
        break
      }
    }
    guard let (h, name) = opened else {
      throw MPIError(
        "started by an MPI launcher, but no MPI library could be loaded (tried "
          + Self.candidates.joined(separator: ", ")
          + "; install Open MPI or MPICH, or set TRM_MPI_LIBRARY to the library's path)")
    }
    handle = h
    func symbol<T>(_ s: String, as: T.Type) throws -> T {
      guard let p = dlsym(h, s) else { throw MPIError("\(name) has no symbol \(s): not an MPI library?") }
      return unsafeBitCast(p, to: T.self)
    }
    typealias InitF =
      @convention(c) (
        UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
      ) -> Int32
    let initialized = try symbol("MPI_Initialized", as: (@convention(c) (UnsafeMutablePointer<Int32>) -> Int32).self)
    var already: Int32 = 0
    _ = initialized(&already)
    if already == 0 { _ = try symbol("MPI_Init", as: InitF.self)(nil, nil) }
    var r: Int32 = 0, n: Int32 = 0
    if let world = dlsym(h, "ompi_mpi_comm_world") {
      let world = OpaquePointer(world)
      guard let f = dlsym(h, "ompi_mpi_float"), let d = dlsym(h, "ompi_mpi_double"), let s = dlsym(h, "ompi_mpi_op_sum")
      else { throw MPIError("\(name): Open MPI handles missing") }
      let commRank = try symbol(
        "MPI_Comm_rank", as: (@convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>) -> Int32).self)
      let commSize = try symbol(
        "MPI_Comm_size", as: (@convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>) -> Int32).self)
      _ = commRank(world, &r)
      _ = commSize(world, &n)
      api = .pointers(
        allreduce: try symbol("MPI_Allreduce", as: type(of: Self.openMPIAllreduceType)),
        bcast: try symbol("MPI_Bcast", as: type(of: Self.openMPIBcastType)),
        abort: try symbol("MPI_Abort", as: (@convention(c) (OpaquePointer?, Int32) -> Int32).self),
        world: world, float: OpaquePointer(f), double: OpaquePointer(d), sum: OpaquePointer(s))
      implementation = "Open MPI (\(name))"
    } else {
      let commRank = try symbol(
        "MPI_Comm_rank", as: (@convention(c) (Int32, UnsafeMutablePointer<Int32>) -> Int32).self)
      let commSize = try symbol(
        "MPI_Comm_size", as: (@convention(c) (Int32, UnsafeMutablePointer<Int32>) -> Int32).self)
      _ = commRank(Self.mpichWorld, &r)
      _ = commSize(Self.mpichWorld, &n)
      api = .integers(
        allreduce: try symbol("MPI_Allreduce", as: type(of: Self.mpichAllreduceType)),
        bcast: try symbol("MPI_Bcast", as: type(of: Self.mpichBcastType)),
        abort: try symbol("MPI_Abort", as: (@convention(c) (Int32, Int32) -> Int32).self))
      implementation = "MPICH (\(name))"
    }
    rank = Int(r)
    size = Int(n)
  }

  // Type witnesses for the function pointers (never called).
  static let openMPIAllreduceType:
    @convention(c) (
      UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, OpaquePointer?,
      OpaquePointer?, OpaquePointer?
    ) -> Int32 = { _, _, _, _, _, _ in 0 }
  static let openMPIBcastType:
    @convention(c) (UnsafeMutableRawPointer?, Int32, OpaquePointer?, Int32, OpaquePointer?)
      -> Int32 = { _, _, _, _, _ in 0 }
  static let mpichAllreduceType:
    @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Int32, Int32, Int32)
      -> Int32 = { _, _, _, _, _, _ in 0 }
  static let mpichBcastType: @convention(c) (UnsafeMutableRawPointer?, Int32, Int32, Int32, Int32) -> Int32 = {
    _, _, _, _, _ in 0
  }

  /// MPI counts are 32-bit: large buffers go in chunks.
  func chunks(_ count: Int, _ body: (Int, Int32) -> Void) {
    var start = 0
    while start < count {
      let n = min(count - start, 1 << 28)
      body(start, Int32(n))
      start += n
    }
  }

  public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) {
    allReduceSum(UnsafeMutableRawPointer(values.baseAddress), count: values.count, bytes: 4)
  }

  public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) {
    allReduceSum(UnsafeMutableRawPointer(values.baseAddress), count: values.count, bytes: 8)
  }

  /// In-place MPI_Allreduce(MPI_SUM) of `count` floats (`bytes` 4) or doubles (`bytes` 8).
  func allReduceSum(_ base: UnsafeMutableRawPointer?, count: Int, bytes: Int) {
    guard let base else { return }
    chunks(count) { start, n in
      let at = base + start * bytes
      // Open MPI: MPI_IN_PLACE is (void *) 1; MPICH: (void *) -1.
      switch api {
      case .pointers(let allreduce, _, _, let world, let float, let double, let sum):
        _ = allreduce(UnsafeRawPointer(bitPattern: 1), at, n, bytes == 4 ? float : double, sum, world)
      case .integers(let allreduce, _, _):
        let type = bytes == 4 ? Self.mpichFloat : Self.mpichDouble
        _ = allreduce(UnsafeRawPointer(bitPattern: -1), at, n, type, Self.mpichSum, Self.mpichWorld)
      }
    }
  }

  public func broadcastFromRoot(_ values: UnsafeMutableBufferPointer<Float>) {
    guard let base = values.baseAddress else { return }
    chunks(values.count) { start, n in
      switch api {
      case .pointers(_, let bcast, _, let world, let float, _, _): _ = bcast(base + start, n, float, 0, world)
      case .integers(_, let bcast, _): _ = bcast(base + start, n, Self.mpichFloat, 0, Self.mpichWorld)
      }
    }
  }

  /// Ends every process of the job (after an error on one of them, so no other waits for ever).
  public func abort(code: Int32) -> Never {
    switch api {
    case .pointers(_, _, let abort, let world, _, _, _): _ = abort(world, code)
    case .integers(_, _, let abort): _ = abort(Self.mpichWorld, code)
    }
    exit(code)
  }

  /// Finalises MPI (call once, at the end of a successful run).
  public func finalize() {
    if let f = dlsym(handle, "MPI_Finalize") { _ = unsafeBitCast(f, to: (@convention(c) () -> Int32).self)() }
  }
}

/// MPI could not be loaded or used; the description says why in one line.
public struct MPIError: Error, CustomStringConvertible, LocalizedError, Sendable {
  public let description: String
  init(_ s: String) { description = s }
  public var errorDescription: String? { description }
}
