import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A progress line on standard error: redrawn in place on a terminal (at most every 0.2 s), one
/// line every 10 s in a log. Seconds count from its creation.
final class ProgressLine {
  let tty = isatty(STDERR_FILENO) != 0
  private let start = DispatchTime.now().uptimeNanoseconds
  private var lastShown: Double
  private var live = false

  /// `lastShown`: the time the interval counts from before the first line.
  init(lastShown: Double = 0) { self.lastShown = lastShown }

  /// Seconds since creation.
  var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

  /// Shows `line` if the interval has passed since the last one, or always with `force` (the
  /// final update).
  func show(_ line: @autoclosure () -> String, force: Bool = false) {
    let now = elapsed
    guard force || now - lastShown > (tty ? 0.2 : 10) else { return }
    lastShown = now
    if tty {
      FileHandle.standardError.write(Data(("\r\u{1B}[K" + line()).utf8))
      live = true
    } else {
      CommandLineTool.err(line())
    }
  }

  /// Ends a line being redrawn, so that what is printed next starts on its own line.
  func end() {
    if live { CommandLineTool.err("") }
    live = false
  }
}
