import Foundation
import XCTest

/// The benchmark executables, run as a user types them: a mistyped option or value is one line
/// and exit code 2 at once — not the full benchmark run (35–45 min) that it used to start.
final class BenchmarkCommandLineTests: XCTestCase {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// Runs `.build/release/NAME ARGS` (built by `swift test -c release` with the rest of the package).
  func run(_ name: String, _ args: [String], searchPath: String? = nil) throws
    -> (status: Int32, stdout: String, stderr: String, seconds: Double)
  {
    let path = Self.root.appendingPathComponent(".build/release/\(name)").path
    guard FileManager.default.isExecutableFile(atPath: path) else { throw XCTSkip("\(path) not built") }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    if let searchPath {
      var env = ProcessInfo.processInfo.environment
      env["PATH"] = searchPath
      p.environment = env
    }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let start = Date()
    try p.run()
    let watchdog = DispatchWorkItem { p.terminate() }
    DispatchQueue.global().asyncAfter(deadline: .now() + 60, execute: watchdog)
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    watchdog.cancel()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self),
            Date().timeIntervalSince(start))
  }

  func testMistypedBenchmarkOptionsStopAtOnceWithOneLine() throws {
    let cases: [(String, [String], String)] = [
      ("TrainBench", ["--quik"], "unknown option --quik"),
      ("TrainBench", ["--mode", "trian"], "--mode wants one of train, infer, got 'trian'"),
      ("TrainBench", ["--threads", "two"], "--threads wants a whole number ≥ 1, got 'two'"),
      ("TrainBench", ["--steps"], "option --steps needs a value"),
      ("TrainBench", ["--width", "64", "--no-torch"], "no row matches --mixer / --width"),
      ("KernelBench", ["--help-me"], "unknown option --help-me"),
      ("KernelBench", ["--shape", "4,4,4,tx"], "--shape wants M,N,K[,ta][,tb]"),
      ("Fuzz", ["--lines", "-3"], "--lines wants a whole number ≥ 0, got '-3'"),
    ]
    for (tool, args, message) in cases {
      let r = try run(tool, args)
      XCTAssertEqual(r.status, 2, "\(tool) \(args): exit status")
      XCTAssertTrue(r.stderr.contains(message), "\(tool) \(args): stderr was '\(r.stderr)'")
      XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(tool) \(args): one line")
      XCTAssertLessThan(r.seconds, 30, "\(tool) \(args) ran on instead of stopping")
    }
    // Without torch, the full run says so before measuring, instead of an hour of empty torch columns.
    let fake = FileManager.default.temporaryDirectory.appendingPathComponent("no-torch-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: fake, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: fake) }
    let python = fake.appendingPathComponent("python3")
    try "#!/bin/sh\nexit 1\n".write(to: python, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: python.path)
    let noTorch = try run("TrainBench", ["--quick"], searchPath: fake.path + ":/usr/bin:/bin")
    XCTAssertEqual(noTorch.status, 2)
    XCTAssertTrue(noTorch.stderr.contains("the PyTorch reference cannot run"), noTorch.stderr)
    XCTAssertLessThan(noTorch.seconds, 30)
    let help = try run("TrainBench", ["--help"])
    XCTAssertEqual(help.status, 0)
    XCTAssertTrue(help.stdout.contains("usage: swift run -c release TrainBench"), help.stdout)
  }
}
