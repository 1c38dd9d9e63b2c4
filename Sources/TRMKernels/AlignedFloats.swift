// Float buffers that start on a cache line.

/// `capacity` floats starting on a 64-byte boundary (a cache line and one AVX-512 vector), for
/// tensors and GEMM scratch. With the system allocator, large blocks start 16 bytes past a page
/// boundary, so every 16-float vector load or store of a row straddles two cache lines; aligned,
/// rows of a multiple of 16 floats touch one line per vector (in-step GEMM shapes with buffers
/// larger than the caches, 1 thread: 2624×1024×128 139 → 156 GFLOP/s, 2624×128×512 97 → 115,
/// Aᵀ 128×512×2624 72 → 84). Release with `deallocateFloats`.
package func allocateFloats(_ capacity: Int) -> UnsafeMutablePointer<Float> {
  UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 1) * MemoryLayout<Float>.stride, alignment: 64)
    .bindMemory(to: Float.self, capacity: max(capacity, 1))
}

/// Releases a buffer from `allocateFloats`.
package func deallocateFloats(_ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).deallocate() }
