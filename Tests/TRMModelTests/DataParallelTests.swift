import Foundation
import TRMModel
import TRMRandom
import TRMTensor
import TRMTraining
import XCTest

/// An in-process process group: P threads, sums taken in rank order (deterministic).
final class LocalGroup: @unchecked Sendable {
  let size: Int
  let lock = NSCondition()
  var contributions: [[Double]?]
  var result: [Double] = []
  var generation = 0
  init(size: Int) {
    self.size = size
    contributions = Array(repeating: nil, count: size)
  }

  func sum(rank: Int, _ values: [Double]) -> [Double] {
    lock.lock()
    defer { lock.unlock() }
    let gen = generation
    contributions[rank] = values
    if contributions.allSatisfy({ $0 != nil }) {
      result = contributions.dropFirst().reduce(contributions[0]!) { acc, c in zip(acc, c!).map(+) }
      contributions = Array(repeating: nil, count: size)
      generation += 1
      lock.broadcast()
    } else {
      while generation == gen { lock.wait() }
    }
    return result
  }
}

final class LocalCommunicator: Communicator {
  let rank: Int
  let group: LocalGroup
  var size: Int { group.size }
  init(rank: Int, group: LocalGroup) {
    self.rank = rank
    self.group = group
  }
  func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) {
    let s = group.sum(rank: rank, values.map(Double.init))
    for i in values.indices { values[i] = Float(s[i]) }
  }
  func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) {
    let s = group.sum(rank: rank, Array(values))
    for i in values.indices { values[i] = s[i] }
  }
  func broadcastFromRoot(_ values: UnsafeMutableBufferPointer<Float>) {
    let mine = rank == 0 ? values.map(Double.init) : [Double](repeating: 0, count: values.count)
    let s = group.sum(rank: rank, mine)
    for i in values.indices { values[i] = Float(s[i]) }
  }
}

/// Data-parallel training (`Trainer.communicator`): P processes with B/P slots each train what one
/// process with B slots trains. Stated tolerance: the loop state (which puzzle every slot holds,
/// its supervision steps, halting) is identical; weights agree within 1e-4 after 5 optimizer
/// steps (only the order of float sums differs: per-process means averaged, vs. one mean); two
/// P = 2 runs are bit-identical; a P = 2 checkpoint resumes with P = 1 and P = 2 exactly.
final class DataParallelTests: XCTestCase {
  let data = tinySudoku(count: 40, blanks: 6, seed: 71)
  var config: TrainingConfig {
    var tc = TrainingConfig()
    tc.batchSize = 8
    tc.learningRate = 1e-3
    tc.warmupSteps = 1
    return tc
  }

  /// Runs `steps` optimizer steps on P in-process ranks; returns every rank's trainer.
  func run(
    ranks P: Int, steps: Int, from checkpoint: URL? = nil, microBatches: Int? = nil, threads: Int = 1
  ) throws -> [Trainer] {
    var config = self.config
    config.microBatches = microBatches
    config.threads = threads
    let group = LocalGroup(size: P)
    var trainers = [Trainer?](repeating: nil, count: P)
    var errors: [Error] = []
    let lock = NSLock()
    DispatchQueue.concurrentPerform(iterations: P) { r in
      do {
        let c = LocalCommunicator(rank: r, group: group)
        let t: Trainer
        if let checkpoint {
          t = try Checkpoint.read(checkpoint).trainer(data: data, communicator: c)
        } else {
          // Ranks other than 0 build from another seed: rank 0's weights must be broadcast.
          t = try Trainer(
            model: try RecursiveModel(config: tinyConfig(), seed: UInt64(81 + r)), config: config,
            data: data, communicator: c)
        }
        for _ in 0..<steps { t.trainStep() }
        lock.withLock { trainers[r] = t }
      } catch {
        lock.withLock { errors.append(error) }
      }
    }
    if let e = errors.first { throw e }
    return trainers.map { $0! }
  }

  func weights(_ t: Trainer) -> [Float] { t.model.parameters.flatMap { $0.value.scalars } }

  func testTwoRanksTrainWhatOneProcessTrains() throws {
    let one = try run(ranks: 1, steps: 5)[0]
    let two = try run(ranks: 2, steps: 5)
    XCTAssertEqual(two[0].shard, 0..<4)
    XCTAssertEqual(two[1].shard, 4..<8)
    XCTAssertEqual(two[0].state, one.state, "same slots, steps and halting as one process")
    XCTAssertEqual(two[1].state, one.state)
    XCTAssertEqual(weights(two[0]), weights(two[1]), "ranks stay in step bit for bit")
    let worst = zip(weights(one), weights(two[0])).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThan(worst, 1e-4, "weights after 5 steps differ by \(worst)")
    XCTAssertGreaterThan(
      zip(weights(one), weights(try run(ranks: 1, steps: 6)[0])).map { abs($0 - $1) }.max()!, 1e-4,
      "one more step moves the weights by more than the tolerance: the check can fail")
    let again = try run(ranks: 2, steps: 5)
    XCTAssertEqual(weights(again[0]), weights(two[0]), "two P = 2 runs are bit-identical")
  }

  func testACheckpointFromTwoRanksResumesWithAnyNumberOfRanks() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trm-dp-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("c.safetensors")
    // Save from two ranks (collective; rank 0 writes the gathered carry).
    let group = LocalGroup(size: 2)
    var done = [Trainer?](repeating: nil, count: 2)
    let lock = NSLock()
    DispatchQueue.concurrentPerform(iterations: 2) { r in
      let t = try! Trainer(
        model: try! RecursiveModel(config: tinyConfig(), seed: 81), config: config, data: data,
        communicator: LocalCommunicator(rank: r, group: group))
      for _ in 0..<3 { t.trainStep() }
      try! Checkpoint.save(trainer: t, to: url)
      for _ in 0..<2 { t.trainStep() }
      lock.withLock { done[r] = t }
    }
    let continuous = done[0]!
    for P in [1, 2] {
      let resumed = try run(ranks: P, steps: 2, from: url)[0]
      XCTAssertEqual(resumed.step, 5)
      XCTAssertEqual(resumed.state, continuous.state, "P = \(P)")
      let worst = zip(weights(resumed), weights(continuous)).map { abs($0 - $1) }.max() ?? 0
      if P == 2 {
        XCTAssertEqual(weights(resumed), weights(continuous), "same P: bit-identical resume")
      } else {
        XCTAssertLessThan(worst, 1e-4, "P = 1 resume of a P = 2 run")
      }
    }
  }

  /// Micro-batches (`TrainingConfig.microBatches`): the same averaging rule inside one process.
  /// The result depends on the number of parts only: 1, 2 and 3 threads give the same bits.
  func testMicroBatchesTrainWhatTheWholeBatchTrainsForAnyThreadCount() throws {
    let whole = try run(ranks: 1, steps: 5)[0]
    let parts = try run(ranks: 1, steps: 5, microBatches: 2, threads: 2)[0]
    XCTAssertEqual(parts.state, whole.state, "same slots, steps and halting as the whole batch")
    let worst = zip(weights(whole), weights(parts)).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThan(worst, 1e-4, "weights after 5 steps differ by \(worst)")
    XCTAssertGreaterThan(worst, 0, "the parts' gradients were averaged, not the whole batch's taken again")
    for threads in [1, 3] {
      let other = try run(ranks: 1, steps: 5, microBatches: 2, threads: threads)[0]
      XCTAssertEqual(weights(other), weights(parts), "micro-batches on \(threads) thread(s): same bits as on 2")
    }
    // With ranks: 2 processes × 2 micro-batches of 2 slots.
    let both = try run(ranks: 2, steps: 5, microBatches: 2, threads: 2)
    XCTAssertEqual(both[0].state, whole.state)
    XCTAssertEqual(weights(both[0]), weights(both[1]), "ranks stay in step bit for bit")
    let worstBoth = zip(weights(whole), weights(both[0])).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThan(worstBoth, 1e-4, "2 ranks × 2 micro-batches after 5 steps differ by \(worstBoth)")
  }

  /// The baseline (no carry) trains with micro-batches too, and matches its whole batch.
  func testMicroBatchesTrainTheBaseline() throws {
    func train(_ parts: Int?) throws -> [Float] {
      var tc = config
      tc.microBatches = parts
      tc.threads = 2
      let model = try RecursiveModel(config: tinyConfig(kind: .baseline), seed: 83)
      let t = try Trainer(model: model, config: tc, data: data)
      for _ in 0..<5 { t.trainStep() }
      return weights(t)
    }
    let whole = try train(nil), parts = try train(2)
    let worst = zip(whole, parts).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThan(worst, 1e-4, "baseline weights after 5 steps differ by \(worst)")
  }

  func testMicroBatchesResumeBitForBitAndMustDivideTheBatch() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trm-mb-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("c.safetensors")
    var tc = config
    tc.microBatches = 2
    tc.threads = 2
    let t = try Trainer(model: try RecursiveModel(config: tinyConfig(), seed: 81), config: tc, data: data)
    for _ in 0..<3 { t.trainStep() }
    try Checkpoint.save(trainer: t, to: url)
    for _ in 0..<2 { t.trainStep() }
    let resumed = try Checkpoint.read(url).trainer(data: data, threads: 1)
    XCTAssertEqual(resumed.config.microBatches, 2, "the checkpoint keeps the number of parts")
    for _ in 0..<2 { resumed.trainStep() }
    XCTAssertEqual(resumed.state, t.state)
    XCTAssertEqual(weights(resumed), weights(t), "resumed on 1 thread: the same bits as the 2-thread run")
    tc.microBatches = 3
    let model = try RecursiveModel(config: tinyConfig(), seed: 81)
    XCTAssertThrowsError(try Trainer(model: model, config: tc, data: data)) {
      XCTAssertTrue("\($0)".contains("divide the batch of 8"), "\($0)")
    }
  }

  func testABatchThatDoesNotSplitEvenlyIsAnError() {
    XCTAssertThrowsError(try run(ranks: 3, steps: 1)) {
      XCTAssertTrue("\($0)".contains("does not split evenly"), "\($0)")
    }
  }
}
