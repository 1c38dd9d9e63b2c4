// Float buffers that start on a cache line.

/// `capacity` floats starting on a 64-byte boundary (a cache line and one AVX-512 vector), for
/// tensors and GEMM scratch (packed panels, tiles, partial sums). With the system allocator,
/// large blocks start 16 bytes past a page boundary, so every 16-float vector load or store of a
/// row or a packed panel straddled two cache lines (a sudoku9 training step, 2 threads, old and
/// new binaries alternating: median 1,089 → 970 ms). Release with `deallocateFloats`.
package func allocateFloats(_ capacity: Int) -> UnsafeMutablePointer<Float> {
  UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 1) * MemoryLayout<Float>.stride, alignment: 64)
    .bindMemory(to: Float.self, capacity: max(capacity, 1))
}

/// Releases a buffer from `allocateFloats`.
package func deallocateFloats(_ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).deallocate() }
