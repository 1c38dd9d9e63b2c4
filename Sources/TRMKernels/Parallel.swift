import Dispatch

/// A raw pointer that may cross into `DispatchQueue.concurrentPerform` workers.
///
/// Safe because every parallel kernel in this module splits its work over *outputs*: two workers
/// never write the same element, and inputs are only read. This is the one place that says so.
package struct SendablePointer<T>: @unchecked Sendable {
  package let p: UnsafeMutablePointer<T>
  package init(_ p: UnsafeMutablePointer<T>) { self.p = p }
  package init(_ p: UnsafePointer<T>) { self.p = UnsafeMutablePointer(mutating: p) }
}

/// Runs `body(task)` for `task` in `0..<count`, spread over at most `threads` workers.
///
/// Tasks are assigned round-robin and never split, so a kernel whose tasks own disjoint outputs
/// gives bit-identical results for any thread count.
package func parallelFor(_ count: Int, threads: Int, _ body: (Int) -> Void) {
  let workers = min(max(threads, 1), count)
  if workers <= 1 {
    for t in 0..<count { body(t) }
    return
  }
  withoutActuallyEscaping(body) { body in
    let box = UnsafeSendableBox(body)
    DispatchQueue.concurrentPerform(iterations: workers) { w in
      var t = w
      while t < count {
        box.value(t)
        t += workers
      }
    }
  }
}

/// Splits `0..<n` into at most `chunks` contiguous ranges of nearly equal size, aligned to `align`.
package func splitRange(_ n: Int, chunks: Int, align: Int = 1) -> [Range<Int>] {
  guard n > 0 else { return [] }
  let c = max(1, min(chunks, (n + align - 1) / align))
  var out: [Range<Int>] = []
  var start = 0
  for i in 0..<c {
    var end = (n * (i + 1)) / c
    end = min(n, ((end + align - 1) / align) * align)
    if i == c - 1 { end = n }
    if end > start { out.append(start..<end) }
    start = end
  }
  return out
}

private struct UnsafeSendableBox<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
