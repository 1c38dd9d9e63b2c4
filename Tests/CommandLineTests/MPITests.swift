import Foundation
import TRMModel
import TRMTraining
import XCTest

/// `mpiexec -n 2 trm train` on this machine, as a user runs it (subprocesses of the built `trm`).
/// `.ci/run` installs Open MPI; where mpiexec is missing the tests are skipped, saying so.
final class MPITests: XCTestCase {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  var dir: URL!

  override func setUp() {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("trm-mpi-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }
  override func tearDown() { try? FileManager.default.removeItem(at: dir) }

  func tool(_ name: String) throws -> String {
    for d in ["/usr/bin", "/usr/local/bin", "/opt/homebrew/bin"]
    where FileManager.default.isExecutableFile(atPath: "\(d)/\(name)") {
      return "\(d)/\(name)"
    }
    throw XCTSkip("\(name) is not installed (.ci/run installs openmpi-bin)")
  }

  var trm: String { Self.root.appendingPathComponent(".build/release/trm").path }

  /// Starts `mpiexec -n 2 trm ARGS`; returns the process and its combined output pipe.
  func launch(_ args: [String]) throws -> (Process, Pipe) {
    guard FileManager.default.isExecutableFile(atPath: trm) else { throw XCTSkip("\(trm) not built") }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try tool("mpiexec"))
    p.arguments = ["-n", "2", "--oversubscribe", trm] + args
    var env = ProcessInfo.processInfo.environment
    env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"  // CI runs as root
    env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
    p.environment = env
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    return (p, pipe)
  }

  func trainArgs(_ out: String, steps: Int) -> [String] {
    [
      "train", "--data", Self.root.appendingPathComponent("Puzzles/sudoku4/train.txt").path, "--preset", "tiny",
      "--optimizer-steps", "\(steps)", "--threads", "1", "--validate-every", "0", "--checkpoint-every", "10", "--out",
      out,
    ]
  }

  func testTwoProcessesTrainAndRankZeroAloneWrites() throws {
    let (p, pipe) = try launch(trainArgs(dir.appendingPathComponent("run").path, steps: 30))
    p.waitUntilExit()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    XCTAssertEqual(p.terminationStatus, 0, output)
    XCTAssertTrue(output.contains("data-parallel over 2 processes"), output)
    XCTAssertEqual(output.components(separatedBy: "done in").count - 1, 1, "one process prints: \(output)")
    let files = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("run").path).sorted()
    XCTAssertEqual(files, ["checkpoint.safetensors", "metrics.jsonl", "model.safetensors"])
    let ckpt = try Checkpoint.read(dir.appendingPathComponent("run/checkpoint.safetensors"))
    XCTAssertNoThrow(try ckpt.model())
    XCTAssertTrue(ckpt.annotations.task != nil)
  }

  /// A one-process run resumed by two processes (and the other way round would work the same:
  /// the checkpoint holds every slot's carry).
  func testAOneProcessRunResumesOnTwoProcesses() throws {
    let out = dir.appendingPathComponent("run").path
    let single = Process()
    single.executableURL = URL(fileURLWithPath: trm)
    single.arguments = trainArgs(out, steps: 20)
    single.standardOutput = Pipe()
    single.standardError = Pipe()
    try single.run()
    single.waitUntilExit()
    XCTAssertEqual(single.terminationStatus, 0)
    let (p, pipe) = try launch([
      "train", "--resume", out, "--data", Self.root.appendingPathComponent("Puzzles/sudoku4/train.txt").path,
      "--optimizer-steps", "40", "--validate-every", "0", "--threads", "1",
    ])
    p.waitUntilExit()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    XCTAssertEqual(p.terminationStatus, 0, output)
    XCTAssertTrue(output.contains("resuming") && output.contains("at step 20/40"), output)
    let loop = try SafeTensors(contentsOf: URL(fileURLWithPath: out + "/checkpoint.safetensors")).metadata["loop"] ?? ""
    XCTAssertTrue(loop.contains("\"step\":40"), loop.prefix(80) + "…")
  }

  /// Launched by a launcher but without a loadable MPI: one line naming what was tried, exit 2.
  func testAMissingMPILibraryIsOneLineNamingWhatWasTried() throws {
    guard FileManager.default.isExecutableFile(atPath: trm) else { throw XCTSkip("\(trm) not built") }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: trm)
    p.arguments = trainArgs(dir.appendingPathComponent("run").path, steps: 5)
    var env = ProcessInfo.processInfo.environment
    env["OMPI_COMM_WORLD_SIZE"] = "2"
    env["TRM_MPI_LIBRARY"] = "/nonexistent/libmpi.so"
    p.environment = env
    let pipe = Pipe()
    p.standardError = pipe
    p.standardOutput = Pipe()
    try p.run()
    p.waitUntilExit()
    let lines = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
    XCTAssertEqual(p.terminationStatus, 2)
    XCTAssertEqual(lines.count, 1, "\(lines)")
    XCTAssertTrue(lines.first?.contains("/nonexistent/libmpi.so") == true, "\(lines)")
  }

  func testAKilledRankEndsTheJobAndTheLastCheckpointLoads() throws {
    let out = dir.appendingPathComponent("run").path
    let (p, pipe) = try launch(trainArgs(out, steps: 100_000))
    // Wait for a checkpoint, then kill one rank's process.
    let deadline = Date().addingTimeInterval(60)
    while !FileManager.default.fileExists(atPath: out + "/checkpoint.safetensors") && Date() < deadline {
      Thread.sleep(forTimeInterval: 0.1)
    }
    let pgrep = Process()
    pgrep.executableURL = URL(fileURLWithPath: try tool("pgrep"))
    pgrep.arguments = ["-f", out]
    let pids = Pipe()
    pgrep.standardOutput = pids
    try pgrep.run()
    pgrep.waitUntilExit()
    let ranks = String(decoding: pids.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      .split(separator: "\n").compactMap { Int32($0) }.filter { $0 != p.processIdentifier }
    XCTAssertGreaterThanOrEqual(ranks.count, 2, "two trm processes run")
    kill(try XCTUnwrap(ranks.last), SIGKILL)
    let stopped = Date().addingTimeInterval(30)
    while p.isRunning && Date() < stopped { Thread.sleep(forTimeInterval: 0.1) }
    XCTAssertFalse(p.isRunning, "the job ended after a rank died (no hang)")
    if p.isRunning { p.terminate() }
    p.waitUntilExit()
    XCTAssertNotEqual(p.terminationStatus, 0)
    _ = pipe.fileHandleForReading.readDataToEndOfFile()
    XCTAssertNoThrow(try Checkpoint.read(URL(fileURLWithPath: out + "/checkpoint.safetensors")).model())
  }
}
