/// What data-parallel training needs from a group of processes (MPI through `TRMDistributed`,
/// or an in-process fake in tests). Collective: every process of the group calls each function
/// in the same order. Failures are fatal to the whole group (MPI's default error handler: a
/// rank that dies makes the launcher stop the others), so these do not throw.
public protocol Communicator: AnyObject {
  /// This process's index, 0..<size.
  var rank: Int { get }
  /// Number of processes.
  var size: Int { get }
  /// Element-wise sum over all processes, in place; every process gets the same result.
  func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>)
  func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>)
  /// Replaces `values` on every process with rank 0's.
  func broadcastFromRoot(_ values: UnsafeMutableBufferPointer<Float>)
}

extension Communicator {
  /// `allReduceSum` on an array.
  func allReduceSum(_ values: inout [Double]) { values.withUnsafeMutableBufferPointer { allReduceSum($0) } }
}
