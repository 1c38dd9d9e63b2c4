import Foundation
import TRMKernels
import TRMModel
import TRMRandom
import TRMTensor

/// One training or evaluation example: input tokens and target tokens of the model's sequence
/// length. Targets equal to `Example.ignore` are not supervised.
public struct Example: Equatable, Sendable {
  public static let ignore: Int32 = -100
  public var inputs: [Int32]
  public var targets: [Int32]
  /// The cells an answer is graded on (nil: every supervised cell). Scratchpad layouts supervise
  /// more cells than they score: arithmetic grids grade only the answer row.
  public var scored: Range<Int>?
  public init(inputs: [Int32], targets: [Int32], scored: Range<Int>? = nil) {
    self.inputs = inputs
    self.targets = targets
    self.scored = scored
  }

  /// How a predicted answer compares with the targets: the one accuracy rule used by
  /// evaluation and `Reasoner` alike. Only supervised cells (target ≠ `ignore`) within `scored`
  /// count; the answer is exact when every one of them matches. (Training-batch metrics grade
  /// every supervised cell, scratchpad included: the trainer keeps only targets per slot.)
  public func grade<C: Collection>(_ predicted: C) -> (correctCells: Int, supervisedCells: Int, exact: Bool)
  where C.Element == Int32, C.Index == Int {
    guard let scored else { return Self.grade(predicted, targets: targets) }
    let base = predicted.startIndex
    return Self.grade(
      predicted[(base + scored.lowerBound)..<(base + scored.upperBound)], targets: targets[scored])
  }

  /// `grade` for targets held outside an `Example`.
  public static func grade<P: Collection, T: Collection>(
    _ predicted: P, targets: T
  )
    -> (correctCells: Int, supervisedCells: Int, exact: Bool) where P.Element == Int32, T.Element == Int32
  {
    precondition(
      predicted.count == targets.count, "grade: \(predicted.count) predicted tokens for \(targets.count) targets")
    var correct = 0, supervised = 0
    for (t, y) in zip(targets, predicted) where t != Example.ignore {
      supervised += 1
      if t == y { correct += 1 }
    }
    return (correct, supervised, correct == supervised)
  }
}

/// Optimisation settings (reference `pretrain.py` names in comments).
/// The target path of a maze with several shortest paths: a file's label is one of them picked
/// arbitrarily, and a loss against it punishes the others.
public enum MazeLabels: String, Codable, Sendable, CaseIterable {
  /// The label as given.
  case file
  /// The canonical shortest path (`Maze.labelled()`): one fixed rule, the same for every maze.
  case canonical
  /// At every supervision step, the shortest path nearest to the model's current answer
  /// (`Maze.nearestShortestPath`): any shortest path is accepted, as the verifier does.
  case nearest
}

public struct TrainingConfig: Codable, Equatable, Sendable {
  /// Slots in the persistent batch (reference `global_batch_size`).
  public var batchSize = 64
  /// Optimizer steps to run, i.e. weight updates (reference: epochs × batches). Each optimizer
  /// step is one supervision step for every slot; not to be confused with N_sup.
  public var optimizerSteps = 1000
  public var learningRate = 1e-3
  public var warmupSteps = 100
  public var schedule: LearningRateSchedule.Shape = .constant
  public var weightDecay = 0.1
  public var beta1 = 0.9
  public var beta2 = 0.95
  /// EMA decay (reference `ema_rate`); `useEMA == false` evaluates the raw weights.
  public var emaDecay = 0.999
  public var useEMA = true
  public var loss: CrossEntropyKind = .stablemax
  /// Weight of the halting BCE (reference: 0.5).
  public var haltLossWeight = 0.5
  /// How many final recursions record gradients (1 = reference 1-step-of-T gradient).
  public var gradientRecursions = 1
  /// Whether the caller installs on-line augmentation (`Trainer.augmentation`); recorded so a
  /// resumed run can install it again.
  public var onlineAugmentation = false
  /// Ablation: gradients only through the last latent update and the y update (paper Table 1).
  public var oneStepGradient = false
  /// Deep-supervision curriculum (not in the reference; nil or 0 = off): over the first this
  /// many optimizer steps the number of supervision steps a slot may use grows linearly from 1
  /// to N_sup. Helps tasks where holding each example for N_sup consecutive optimizer steps
  /// stalls learning from scratch (8-digit addition, see Benchmarks/results/README.md).
  public var supervisionWarmup: Int? = nil
  /// Staggered slots (nil = off; not in the reference): on the first fill, slot s starts as if
  /// it had already used s mod N_sup supervision steps, so every batch mixes all depths instead
  /// of refilling all slots at once every N_sup steps (Deep Thinking's random-depth training).
  public var staggerSlots: Bool? = nil
  /// Clip the global gradient norm to this value before the optimizer step (nil = off).
  public var gradientClip: Double? = nil
  /// Whether the caller installs a generator of fresh examples (`Trainer.augmentation` that
  /// ignores the file index); recorded so a resumed run can install it again.
  public var onlineGeneration: Bool? = nil
  /// Share of generated mazes that have loops (nil: `ExampleStream.mazeLoopShare`).
  public var generatedLoopShare: Double? = nil
  /// Easy-to-hard curriculum of generated sudoku (nil = off; `ExampleStream.SudokuCurriculum`):
  /// the share of refills that must grade hard or harder by our solver at the end of the ramp.
  /// Recorded so a resumed run draws the same puzzles.
  public var curriculumHardShare: Double? = nil
  /// Which shortest path a maze is trained on where it has several (Maze-Hard; nil = the file's
  /// label). Recorded so a resumed run does the same.
  public var mazeLabels: MazeLabels? = nil
  /// Micro-batches per step (nil or 1 = the whole batch at once): the slots are split into this
  /// many equal parts, each part's loss (its own mean) is differentiated on its own graph, and
  /// the gradients are averaged in part order — the data-parallel rule of `Communicator` runs,
  /// inside one process. The parts run side by side on the `threads` (a part per thread, one
  /// kernel thread each, so no hand-off between threads inside an op); the result depends on the
  /// number of parts only, never on the thread count.
  public var microBatches: Int? = nil
  public var seed: UInt64 = 0
  public var threads = 1

  public init() {}

  /// Throws unless every setting is in range (a config read from a checkpoint is untrusted).
  public func validate() throws {
    func fail(_ s: String) throws { throw ModelError.invalidConfig(s) }
    if batchSize < 1 || batchSize > 65_536 { try fail("batchSize must be in 1…65536, got \(batchSize)") }
    if threads < 1 || threads > 256 { try fail("threads must be in 1…256, got \(threads)") }
    if let k = microBatches, k < 1 || k > 256 || batchSize % k != 0 {
      try fail("microBatches must be in 1…256 and divide the batch of \(batchSize), got \(k)")
    }
    if optimizerSteps < 0 || optimizerSteps > 1_000_000_000 { try fail("optimizerSteps must be in 0…10^9") }
    if warmupSteps < 0 || gradientRecursions < 1 || gradientRecursions > 256 || (supervisionWarmup ?? 0) < 0 {
      try fail("warmupSteps and supervisionWarmup must be ≥ 0, gradientRecursions in 1…256")
    }
    let rates = [
      learningRate, weightDecay, beta1, beta2, emaDecay, haltLossWeight, gradientClip ?? 1, generatedLoopShare ?? 0,
      curriculumHardShare ?? 0,
    ]
    if !rates.allSatisfy({ $0.isFinite && $0 >= 0 }) || beta1 >= 1 || beta2 >= 1 || emaDecay > 1
      || (generatedLoopShare ?? 0) > 1 || (curriculumHardShare ?? 0) > 1 || (gradientClip ?? 1) <= 0
    {
      try fail(
        "rates must be finite: learningRate ≥ 0, weightDecay ≥ 0, betas in [0, 1), emaDecay in [0, 1], "
          + "haltLossWeight ≥ 0, gradientClip > 0, generatedLoopShare and curriculumHardShare in [0, 1]")
    }
  }

  // `optimizerSteps` keeps its original key `steps`, so earlier checkpoints load.
  enum CodingKeys: String, CodingKey {
    case batchSize, optimizerSteps = "steps", learningRate, warmupSteps, schedule, weightDecay, beta1, beta2, emaDecay
    case useEMA, loss, haltLossWeight, gradientRecursions, onlineAugmentation, oneStepGradient, supervisionWarmup
    case staggerSlots, gradientClip, onlineGeneration, generatedLoopShare, mazeLabels, microBatches, seed
    case threads, curriculumHardShare
  }
}

/// Everything a trainer changes as it runs apart from tensors (weights, EMA, optimizer moments,
/// carry): one value, saved whole in a checkpoint (metadata `loop`) so that resume continues bit
/// for bit. A new piece of resumable state is one new field here (optional, so that earlier
/// checkpoints still decode).
public struct TrainerState: Codable, Equatable, Sendable {
  /// Optimizer steps done (= AdamW's step count).
  public internal(set) var step = 0
  public internal(set) var rng: SplitMix64
  /// The epoch's shuffled example order and the position in it.
  public internal(set) var order: [Int] = []
  public internal(set) var cursor = 0
  /// Per slot: the example index it holds (-1 before the first fill), the (possibly augmented
  /// or generated) example itself, supervision steps used, and whether it halted.
  public internal(set) var slotExample: [Int]
  public internal(set) var slotInputs: [[Int32]]
  public internal(set) var slotTargets: [[Int32]]
  public internal(set) var slotSteps: [Int]
  public internal(set) var halted: [Bool]

  init(seed: UInt64, batchSize: Int, filler: Example) {
    rng = SplitMix64(seed: seed ^ 0x5EED_0F_DA7A)
    slotExample = Array(repeating: -1, count: batchSize)
    slotInputs = Array(repeating: filler.inputs, count: batchSize)
    slotTargets = Array(repeating: filler.targets, count: batchSize)
    slotSteps = Array(repeating: 0, count: batchSize)
    halted = Array(repeating: true, count: batchSize)
  }

  enum CodingKeys: String, CodingKey {
    case step, rng = "rngState", order, cursor, slotExample, slotInputs, slotTargets, slotSteps, halted
  }

  /// Throws unless this state fits a trainer with `batchSize` slots on `dataCount` examples of
  /// `length` tokens (a checkpoint resumed on other data, or edited by hand).
  func validate(batchSize: Int, dataCount: Int, length: Int, vocabulary: Int) throws {
    let perSlot = [slotExample.count, slotInputs.count, slotTargets.count, slotSteps.count, halted.count]
    guard perSlot.allSatisfy({ $0 == batchSize }) else {
      throw ModelError.checkpoint("training state has \(perSlot) slot entries for batch size \(batchSize)")
    }
    guard step >= 0, cursor >= 0, cursor <= order.count, order.allSatisfy({ $0 >= 0 && $0 < dataCount }),
      slotExample.allSatisfy({ $0 >= -1 && $0 < dataCount })
    else {
      throw ModelError.checkpoint("training state does not match this data set (\(dataCount) examples)")
    }
    guard slotInputs.allSatisfy({ $0.count == length }), slotTargets.allSatisfy({ $0.count == length }) else {
      throw ModelError.checkpoint("slot contents are not \(length) tokens long")
    }
    let tokenRange = Int32(0)..<Int32(vocabulary)
    guard slotInputs.allSatisfy({ $0.allSatisfy(tokenRange.contains) }),
      slotTargets.allSatisfy({ $0.allSatisfy { $0 == Example.ignore || tokenRange.contains($0) } }),
      slotSteps.allSatisfy({ $0 >= 0 })
    else {
      throw ModelError.checkpoint("slot contents hold tokens outside the vocabulary 0..<\(vocabulary)")
    }
  }
}

/// What one optimizer step measured.
public struct StepMetrics: Sendable {
  public var step: Int
  public var loss: Double
  public var lmLoss: Double
  public var haltLoss: Double
  public var learningRate: Double
  /// Exact accuracy over the slots that halted at this step (reference metric), nil if none.
  public var haltedExactAccuracy: Double?
  /// Exact accuracy over all slots at this step.
  public var exactAccuracy: Double
  public var cellAccuracy: Double
  public var haltedCount: Int
  /// Mean supervision steps of the halted slots.
  public var meanHaltSupervisionSteps: Double?
}

/// The reference training loop: a persistent batch of slots; one optimizer step = one
/// supervision step for every slot; a slot keeps its puzzle and carry until it halts (halt logit
/// > 0 or N_sup steps, with exploration), then takes the next example of the shuffled data.
///
/// The baseline has no carry: every step takes a fresh batch.
///
/// Data-parallel (`communicator` with P processes): every process keeps the whole loop state
/// (all B slots, the shuffled order, the RNG — identical everywhere, since every process makes
/// the same draws) but computes only its `shard` of B/P slots; the per-slot exactness and halting
/// logits and the loss figures are summed across processes once per step, the gradients once
/// more (one flat buffer), and averaged. So P processes train what one process with batch B
/// trains, up to the order of float sums (`DataParallelTests` states the tolerance), and a
/// checkpoint (the full carry is gathered into it) resumes with any P.
public final class Trainer {
  public let model: RecursiveModel
  public let config: TrainingConfig
  public let data: [Example]
  public let optimizer: AdamW
  public let ema: EMA
  public let schedule: LearningRateSchedule
  /// Where every step's activations and gradients are allocated (reused across steps): one
  /// pool per micro-batch, since micro-batches run on threads side by side.
  let pools: [BufferPool]
  /// The first micro-batch's pool (the only one without micro-batches).
  public var pool: BufferPool { pools[0] }

  /// The loop state (saved in checkpoints with the carry, so resume is exact).
  public internal(set) var state: TrainerState
  /// Optimizer steps done.
  public var step: Int { state.step }
  /// Optional on-line augmentation: called with an example index and the trainer's RNG each
  /// time a slot loads that example; returns the example to train on. Deterministic from the
  /// seed, and resumable (the RNG state and slot contents are checkpointed).
  public var augmentation: ((Int, inout SplitMix64) -> Example)?
  /// The optimizer step whose slot refills are being drawn: what an `augmentation` reads for a
  /// schedule (reading `step` there would overlap the refill's access to the trainer's state).
  public private(set) var refillStep = 0
  /// Optional choice of each slot's targets from the model's current answer (nil: the slot's
  /// example targets), at every supervision step: called with the slot's inputs, its example
  /// targets and its logits ([L × vocab], row-major); returns the targets the loss, the
  /// exactness metric and the halting target use (e.g. the maze path nearest to the answer,
  /// `MazeLabels.nearest`). A pure function: micro-batches call it from several threads.
  public var answerTargets: (([Int32], [Int32], UnsafeBufferPointer<Float>) -> [Int32])?
  /// The latent state of this process's slots (the TRM's y and z), [shard.count, P + L, D].
  var carry: Carry
  /// Per-op and per-phase timing of every step (`TrainBench --profile`; nil: none).
  public var profile: OpProfile?
  /// The process group of a data-parallel run (nil: this process trains alone).
  public let communicator: Communicator?
  /// The slots this process computes: all B, or its rank's B/P of a data-parallel batch.
  public let shard: Range<Int>

  public init(model: RecursiveModel, config: TrainingConfig, data: [Example], communicator: Communicator? = nil) throws
  {
    guard !data.isEmpty else { throw ModelError.invalidConfig("training data is empty") }
    let L = model.config.sequenceLength
    for (i, e) in data.enumerated() where e.inputs.count != L || e.targets.count != L {
      throw ModelError.shapeMismatch(
        "example \(i) has \(e.inputs.count) inputs / \(e.targets.count) targets; the model expects \(L)")
    }
    for (i, e) in data.enumerated() {
      if let bad = e.inputs.first(where: { $0 < 0 || Int($0) >= model.config.vocabSize }) {
        throw ModelError.shapeMismatch(
          "example \(i) has token \(bad) outside the vocabulary 0..<\(model.config.vocabSize)")
      }
      if let bad = e.targets.first(where: { $0 != Example.ignore && ($0 < 0 || Int($0) >= model.config.vocabSize) }) {
        throw ModelError.shapeMismatch(
          "example \(i) has target \(bad) outside the vocabulary 0..<\(model.config.vocabSize)")
      }
    }
    try config.validate()
    let need = Double(config.batchSize) * model.config.activationFloatsPerExample(recording: true) * 4
    let have = Double(ProcessInfo.processInfo.physicalMemory)
    guard need < 0.8 * have else {
      throw ModelError.invalidConfig(
        String(
          format: "training needs about %.1f GB of activations (batch %d of %d cells), "
            + "this machine has %.1f GB: lower the batch or the puzzle size", need / 1e9, config.batchSize,
          model.config.sequenceLength, have / 1e9))
    }
    let P = communicator?.size ?? 1, rank = communicator?.rank ?? 0
    let parts = config.microBatches ?? 1
    guard config.batchSize % (P * parts) == 0 else {
      throw ModelError.invalidConfig(
        "the batch of \(config.batchSize) does not split evenly over \(P) processes × \(parts) micro-batches")
    }
    pools = (0..<parts).map { _ in BufferPool() }
    shard = (rank * config.batchSize / P)..<((rank + 1) * config.batchSize / P)
    self.communicator = communicator
    if let communicator, P > 1 {
      // Every process starts from rank 0's weights and init vectors.
      var flat = model.parameters.flatMap { $0.value.scalars } + model.yInit.scalars + model.zInit.scalars
      flat.withUnsafeMutableBufferPointer { communicator.broadcastFromRoot($0) }
      var offset = 0
      for p in model.parameters {
        p.value = Tensor(Array(flat[offset..<(offset + p.value.count)]), shape: p.shape)
        offset += p.value.count
      }
      let D = model.config.width
      try model.setInits(
        y: Tensor(Array(flat[offset..<(offset + D)]), shape: [D]),
        z: Tensor(Array(flat[(offset + D)..<(offset + 2 * D)]), shape: [D]))
    }
    self.model = model
    self.config = config
    self.data = data
    optimizer = AdamW(beta1: config.beta1, beta2: config.beta2, weightDecay: config.weightDecay)
    ema = EMA(decay: config.emaDecay, params: model.parameters)
    schedule = LearningRateSchedule(
      peak: config.learningRate, warmupSteps: config.warmupSteps,
      totalSteps: config.optimizerSteps, shape: config.schedule)
    state = TrainerState(seed: config.seed, batchSize: config.batchSize, filler: data[0])
    carry = model.initialCarry(batch: shard.count)
  }

  /// The carry of all B slots: this process's rows, or (data-parallel; collective) every
  /// process's rows gathered by a sum over zero-filled buffers.
  public func fullCarry() -> Carry {
    guard let communicator, communicator.size > 1 else { return carry }
    let rowFloats = carry.y.count / max(1, shard.count)
    func gather(_ local: Tensor) -> Tensor {
      var all = [Float](repeating: 0, count: config.batchSize * rowFloats)
      for i in 0..<local.count { all[shard.lowerBound * rowFloats + i] = local[flat: i] }
      all.withUnsafeMutableBufferPointer { communicator.allReduceSum($0) }
      return Tensor(all, shape: [config.batchSize] + local.shape.dropFirst())
    }
    return Carry(y: gather(carry.y), z: gather(carry.z))
  }

  /// Continues from a saved state, optimizer moments and carry (what `Checkpoint` stores).
  /// Checks that they fit this trainer.
  package func restore(
    state s: TrainerState, moments: (m: [String: Tensor], v: [String: Tensor]), carry c: Carry
  ) throws {
    try s.validate(
      batchSize: config.batchSize, dataCount: data.count, length: model.config.sequenceLength,
      vocabulary: model.config.vocabSize)
    let fullShape = [config.batchSize] + carry.y.shape.dropFirst()
    guard c.y.shape == fullShape, c.z.shape == fullShape else {
      throw ModelError.checkpoint("carry has shape \(c.y.shape)/\(c.z.shape), the trainer expects \(fullShape)")
    }
    state = s
    optimizer.restore(stepCount: s.step, m: moments.m, v: moments.v)
    carry =
      shard.count == config.batchSize ? c : Carry(y: gatherRows(c.y, Array(shard)), z: gatherRows(c.z, Array(shard)))
  }

  /// A copy of the model with the weights evaluation should use: the EMA weights (or the raw
  /// weights when `useEMA` is off). Training further does not change the copy.
  public func evaluationModel() throws -> RecursiveModel {
    let copy = try RecursiveModel(config: model.config, seed: 0)
    for (dst, src) in zip(copy.parameters, model.parameters) {
      dst.value = (config.useEMA ? ema.shadow[src.name] : nil)?.copy() ?? src.value.copy()
    }
    try copy.setInits(y: model.yInit, z: model.zInit)
    return copy
  }

  /// Next example index from the epoch-shuffled order.
  func nextExample() -> Int {
    if state.cursor >= state.order.count {
      state.order = state.rng.permutation(data.count)
      state.cursor = 0
    }
    state.cursor += 1
    return state.order[state.cursor - 1]
  }

  /// Runs one optimizer step and returns its metrics.
  @discardableResult
  public func trainStep() -> StepMetrics {
    let B = config.batchSize
    let isTRM = model.config.kind == .trm
    let local = shard, b = local.count, P = Double(communicator?.size ?? 1)
    // Refill halted slots (all slots for the baseline).
    let refillStart = DispatchTime.now().uptimeNanoseconds
    refillStep = state.step
    let firstFill = step == 0 && state.slotExample.allSatisfy { $0 < 0 }
    for s in 0..<B where state.halted[s] || !isTRM {
      let i = nextExample()
      let e = augmentation.map { $0(i, &state.rng) } ?? data[i]
      state.slotExample[s] = i
      state.slotInputs[s] = e.inputs
      state.slotTargets[s] = e.targets
      state.slotSteps[s] = firstFill && config.staggerSlots == true ? s % effectiveSupervisionSteps : 0
      if isTRM && local.contains(s) { model.resetCarry(&carry, row: s - local.lowerBound) }
    }
    profile?.add("slots (refill, batch)", seconds: Double(DispatchTime.now().uptimeNanoseconds - refillStart) / 1e9)
    let params = model.parameters
    for p in params { p.zeroGrad() }
    // Forward, loss and backward of each micro-batch; the parts run side by side on the threads.
    let k = pools.count, rows = b / k
    let workers = min(k, config.threads), kernelThreads = max(1, config.threads / workers)
    let partCarries =
      k == 1
      ? [carry]
      : (0..<k).map { i in
        let r = Array((i * rows)..<((i + 1) * rows))
        return Carry(y: gatherRows(carry.y, r), z: gatherRows(carry.z, r))
      }
    let results = (0..<k).map { _ in PartResult() }
    let run = { (i: Int) in
      let slots = (local.lowerBound + i * rows)..<(local.lowerBound + (i + 1) * rows)
      self.trainPart(
        slots: slots, carry: partCarries[i], pool: self.pools[i], threads: kernelThreads,
        ownsGradients: k > 1, profile: i == 0 ? self.profile : nil, into: results[i])
    }
    if workers > 1 { parallelFor(k, threads: workers, run) } else { for i in 0..<k { run(i) } }
    var exact = [Bool](repeating: false, count: B)
    var correctCells = 0, supervised = 0
    var lossValue = 0.0, lmValue = 0.0, haltLossValue = 0.0
    var haltLogits: [Float]? = results[0].haltLogits != nil ? [Float](repeating: 0, count: B) : nil
    for (i, r) in results.enumerated() {
      for (row, e) in r.exact.enumerated() { exact[local.lowerBound + i * rows + row] = e }
      if let q = r.haltLogits { for (row, v) in q.enumerated() { haltLogits?[local.lowerBound + i * rows + row] = v } }
      correctCells += r.correctCells
      supervised += r.supervised
      lossValue += r.loss / Double(k)
      lmValue += r.lm / Double(k)
      haltLossValue += r.haltLoss / Double(k)
    }
    if k > 1 {
      profiled(profile, "micro-batch gradient sum") {
        let scale = 1 / Float(k)
        for p in params {
          let n = p.grad.count
          p.grad.withMutableData { dst in
            for r in results { if let g = r.graph?.parameterGradient(p) { axpy(scale, g.data, dst, n) } }
          }
        }
      }
    }
    let partCarriesOut = results.compactMap(\.carry)  // empty for the baseline, which has no carry
    if partCarriesOut.count == 1 {
      carry = partCarriesOut[0]
    } else if partCarriesOut.count == k {
      carry = Carry(y: concatenateRows(partCarriesOut.map(\.y)), z: concatenateRows(partCarriesOut.map(\.z)))
    }
    for r in results { r.graph = nil }
    if let communicator, communicator.size > 1 {
      // One sum over processes: every slot's exactness and halting logit, and the loss figures.
      var shared = [Double](repeating: 0, count: 2 * B + 5)
      for s in local {
        shared[s] = exact[s] ? 1 : 0
        shared[B + s] = Double(haltLogits?[s] ?? 0)
      }
      shared[2 * B] = lossValue
      shared[2 * B + 1] = lmValue
      shared[2 * B + 2] = haltLossValue
      shared[2 * B + 3] = Double(correctCells)
      shared[2 * B + 4] = Double(supervised)
      communicator.allReduceSum(&shared)
      exact = (0..<B).map { shared[$0] > 0.5 }
      if haltLogits != nil { haltLogits = (0..<B).map { Float(shared[B + $0]) } }
      lossValue = shared[2 * B] / P
      lmValue = shared[2 * B + 1] / P
      haltLossValue = shared[2 * B + 2] / P
      correctCells = Int(shared[2 * B + 3])
      supervised = Int(shared[2 * B + 4])
      profiled(profile, "gradient averaging (MPI)") { averageGradients(params, over: communicator) }
    }
    if let clip = config.gradientClip {
      profiled(profile, "gradient clipping") { clipGradientNorm(params, maxNorm: clip) }
    }
    let lr = schedule.rate(at: step)
    profiled(profile, "optimizer (AdamW)") { optimizer.step(params, learningRate: lr) }
    state.step += 1
    profiled(profile, "EMA") { ema.update(params, step: state.step) }

    // Halting decisions for the next step (reference ACT wrapper, training mode).
    var haltedExact = 0, haltedN = 0, haltedStepSum = 0
    if isTRM {
      let nSup = effectiveSupervisionSteps
      for s in 0..<B {
        state.slotSteps[s] += 1
        var h = state.slotSteps[s] >= nSup
        if nSup > 1, let haltLogits {
          h = h || (haltLogits[s] > 0)
          // Exploration, resampled every step as the reference does.
          let explore = state.rng.nextDouble() < model.config.haltExploration
          let minSteps = explore ? state.rng.nextInt(in: 2...nSup) : 0
          h = h && state.slotSteps[s] >= minSteps
        }
        state.halted[s] = h
        if h { haltedN += 1; haltedStepSum += state.slotSteps[s]; if exact[s] { haltedExact += 1 } }
      }
    } else {
      for s in 0..<B { state.halted[s] = true; haltedN += 1; haltedStepSum += 1; if exact[s] { haltedExact += 1 } }
    }
    return StepMetrics(
      step: step, loss: lossValue, lmLoss: lmValue, haltLoss: haltLossValue, learningRate: lr,
      haltedExactAccuracy: haltedN > 0 ? Double(haltedExact) / Double(haltedN) : nil,
      exactAccuracy: Double(exact.filter { $0 }.count) / Double(B),
      cellAccuracy: Double(correctCells) / Double(max(1, supervised)),
      haltedCount: haltedN, meanHaltSupervisionSteps: haltedN > 0 ? Double(haltedStepSum) / Double(haltedN) : nil)
  }

  /// What one micro-batch's forward and backward measured; the graph keeps its parameter
  /// gradients until the trainer has summed them.
  final class PartResult: @unchecked Sendable {
    var exact: [Bool] = []
    var haltLogits: [Float]? = nil
    var correctCells = 0, supervised = 0
    var loss = 0.0, lm = 0.0, haltLoss = 0.0
    var carry: Carry? = nil
    var graph: Graph? = nil
  }

  /// Forward, loss (the part's own mean) and backward of the slots `slots`. Reads the model and
  /// the loop state, writes only `result` (safe to run for several parts at once).
  func trainPart(
    slots: Range<Int>, carry: Carry, pool: BufferPool, threads: Int, ownsGradients: Bool, profile: OpProfile?,
    into result: PartResult
  ) {
    let L = model.config.sequenceLength, V = model.config.vocabSize
    let tokens = Array(state.slotInputs[slots].joined())
    let g = Graph(recording: true, threads: threads, pool: pool, ownsParameterGradients: ownsGradients)
    g.profile = profile
    let out = model.step(
      g, tokens: tokens, carry: carry, gradientRecursions: config.gradientRecursions,
      oneStepGradient: config.oneStepGradient)
    var targets = slots.map { state.slotTargets[$0] }
    // Correctness of each slot's current answer (argmax over logits).
    profiled(profile, "scoring (argmax, grading)") {
      if let choose = answerTargets {
        let p = out.logits.value.data
        for (row, s) in slots.enumerated() {
          let logits = UnsafeBufferPointer(start: p + row * L * V, count: L * V)
          targets[row] = choose(state.slotInputs[s], state.slotTargets[s], logits)
        }
      }
      let predicted = argmax(out.logits.value, rows: slots.count * L, vocab: V)
      result.exact = (0..<slots.count).map { row in
        let r = Example.grade(predicted[(row * L)..<((row + 1) * L)], targets: targets[row])
        result.correctCells += r.correctCells
        result.supervised += r.supervisedCells
        return r.exact
      }
    }
    let labels = Array(targets.joined())
    let lm = g.mean(g.crossEntropy(out.logits, labels: labels, kind: config.loss, ignore: Example.ignore))
    var loss = lm
    if let q = out.haltLogits {
      let bce = g.mean(g.bceWithLogits(q, targets: result.exact.map { $0 ? 1 : 0 }))
      result.haltLoss = Double(bce.value[flat: 0])
      loss = g.add(lm, g.scale(bce, Float(config.haltLossWeight)))
      result.haltLogits = (0..<slots.count).map { q.value[flat: $0] }
    }
    result.loss = Double(loss.value[flat: 0])
    result.lm = Double(lm.value[flat: 0])
    g.backward(loss)
    result.carry = model.config.kind == .trm ? out.carry : nil
    result.graph = ownsGradients ? g : nil
  }

  /// Sums every parameter's gradient over the processes (one flat buffer, one collective) and
  /// divides by their number: the gradient of the mean loss over the whole batch.
  func averageGradients(_ params: [Parameter], over communicator: Communicator) {
    let total = params.reduce(0) { $0 + $1.grad.count }
    var flat = [Float](repeating: 0, count: total)
    var offset = 0
    for p in params {
      let n = p.grad.count
      p.grad.withMutableData { g in for i in 0..<n { flat[offset + i] = g[i] } }
      offset += n
    }
    flat.withUnsafeMutableBufferPointer { communicator.allReduceSum($0) }
    let scale = 1 / Float(communicator.size)
    offset = 0
    for p in params {
      let n = p.grad.count
      p.grad.withMutableData { g in for i in 0..<n { g[i] = flat[offset + i] * scale } }
      offset += n
    }
  }

  /// The supervision-step cap at the current step (N_sup, or less during `supervisionWarmup`).
  public var effectiveSupervisionSteps: Int {
    let nSup = model.config.supervisionSteps
    guard let w = config.supervisionWarmup, w > 0, step < w else { return nSup }
    return 1 + (nSup - 1) * step / w
  }
}

/// Scales all gradients so that their global L2 norm is at most `maxNorm`; returns the norm
/// before clipping (PyTorch `clip_grad_norm_`).
@discardableResult
public func clipGradientNorm(_ params: [Parameter], maxNorm: Double) -> Double {
  var sq = 0.0
  for p in params { for i in 0..<p.grad.count { let g = Double(p.grad[flat: i]); sq += g * g } }
  let norm = sq.squareRoot()
  if norm > maxNorm && norm.isFinite {
    let s = Float(maxNorm / (norm + 1e-6))
    for p in params { let n = p.grad.count; p.grad.withMutableData { g in for i in 0..<n { g[i] *= s } } }
  }
  return norm
}

/// Index of the largest logit in each row (first on ties).
public func argmax(_ logits: Tensor, rows: Int, vocab: Int) -> [Int32] {
  var out = [Int32](repeating: 0, count: rows)
  let p = logits.data
  for r in 0..<rows {
    var best = 0
    for v in 1..<vocab where p[r * vocab + v] > p[r * vocab + best] { best = v }
    out[r] = Int32(best)
  }
  return out
}
