import Dispatch
import Foundation
import TRMKernels
import TRMModel
import TRMTensor

/// Per-example result of running the model.
public struct Prediction: Sendable {
  /// Argmax tokens per cell.
  public var tokens: [Int32]
  /// Supervision steps used before the answer was taken.
  public var supervisionSteps: Int
  /// σ(halt logit) at the step the answer was taken (nil for the baseline).
  public var haltProbability: Double?
}

/// Accuracy figures of one evaluation.
public struct EvaluationResult: Sendable {
  public var count: Int
  /// Whole answer equal to the label.
  public var exactAccuracy: Double
  /// Supervised cells equal to the label.
  public var cellAccuracy: Double
  /// Mean supervision steps used per example.
  public var meanSupervisionSteps: Double
  public var millisecondsPerExample: Double
  public var predictions: [Prediction]
}

/// Runs a model on examples without recording gradients.
public enum Evaluator {
  /// Runs up to `budget.supervisionSteps` supervision steps per example, each with the budget's
  /// n and T (nil: the trained budget; any budget runs on the same weights, e.g. more steps than
  /// the training N_sup for test-time depth scaling). With `halt`, an example stops at the first
  /// step whose halt logit is > 0 (its answer is frozen there). With `untilStable`, an example
  /// stops at the first step (from the second on) that leaves its answer unchanged — a stop rule
  /// that does not depend on what the halting head learned at the training size. The baseline
  /// always uses one step.
  public static func predict(
    model: RecursiveModel, inputs: [[Int32]], budget: RecursionBudget? = nil, halt: Bool,
    untilStable: Bool = false, batchSize: Int = 64, threads: Int = 1
  ) -> [Prediction] {
    let budget = budget ?? model.config.budget
    // Big puzzles (a 301×301 maze) get smaller batches: at most a quarter of the machine's memory.
    let perExample = model.config.activationFloatsPerExample(recording: false) * 4
    let memoryCap = Int(min(1e9, Double(ProcessInfo.processInfo.physicalMemory) / 4 / max(perExample, 1)))
    let L = model.config.sequenceLength
    for (i, x) in inputs.enumerated() {
      precondition(x.count == L, "example \(i) has \(x.count) tokens; the model expects \(L)")
    }
    // Rows are independent, so several threads each run whole batches on one kernel thread (no
    // hand-off inside an op) whenever there are rows for each; the batches are equal in size
    // and dealt round-robin. A row's result does not depend on its batch-mates.
    let workers = max(1, min(threads, inputs.count))
    let batchSize = max(1, min(batchSize, memoryCap / workers))
    let batches = workers * ((inputs.count + workers * batchSize - 1) / (workers * batchSize))
    let ranges = splitRange(inputs.count, chunks: max(1, batches))
    let kernelThreads = max(1, threads / workers)
    let pools = (0..<workers).map { _ in BufferPool() }
    let results = (0..<ranges.count).map { _ in PredictionBox() }
    parallelFor(ranges.count, threads: workers) { i in
      results[i].value = predictBatch(
        model: model, inputs: inputs[ranges[i]], budget: budget, halt: halt, untilStable: untilStable,
        pool: pools[i % workers], threads: kernelThreads)
    }
    return results.flatMap(\.value)
  }

  private final class PredictionBox: @unchecked Sendable { var value: [Prediction] = [] }

  /// Runs one batch (rows of `inputs`) up to the budget's supervision steps.
  private static func predictBatch(
    model: RecursiveModel, inputs: ArraySlice<[Int32]>, budget: RecursionBudget, halt: Bool, untilStable: Bool,
    pool: BufferPool, threads: Int
  ) -> [Prediction] {
    let L = model.config.sequenceLength, V = model.config.vocabSize
    let B = inputs.count
    var tokens = Array(inputs.joined())
    let K = model.config.kind == .trm ? max(1, budget.supervisionSteps) : 1
    var carry = model.initialCarry(batch: B)
    var preds = [Prediction](repeating: Prediction(tokens: [], supervisionSteps: 0, haltProbability: nil), count: B)
    // Rows still running (indices into this batch); halted rows are dropped from the
    // computation, so early halting saves wall time, not only FLOPs. Rows are independent,
    // so dropping others does not change a row's result.
    var active = Array(0..<B)
    for k in 1...K {
      let n = active.count
      let g = Graph(recording: false, threads: threads, pool: pool)
      let o = model.step(g, tokens: tokens, carry: carry, budget: budget)
      carry = o.carry
      let argmaxTokens = argmax(o.logits.value, rows: n * L, vocab: V)
      let q = o.haltLogits?.value.scalars
      var keep: [Int] = []
      for (r, b) in active.enumerated() {
        let p = q.map { 1 / (1 + _exp(-Double($0[r]))) }
        let answer = Array(argmaxTokens[(r * L)..<((r + 1) * L)])
        let stable = untilStable && k > 1 && answer == preds[b].tokens
        preds[b] = Prediction(tokens: answer, supervisionSteps: k, haltProbability: p)
        let halted = (halt && (q?[r] ?? 0) > 0) || stable
        if !halted { keep.append(r) }
      }
      if keep.isEmpty { break }
      if keep.count < n {
        tokens = keep.flatMap { tokens[($0 * L)..<(($0 + 1) * L)] }
        carry = Carry(y: gatherRows(carry.y, keep), z: gatherRows(carry.z, keep))
        active = keep.map { active[$0] }
      }
    }
    return preds
  }

  /// Predicts and scores against the examples' targets.
  public static func evaluate(
    model: RecursiveModel, examples: [Example], budget: RecursionBudget? = nil, halt: Bool,
    untilStable: Bool = false, batchSize: Int = 64, threads: Int = 1
  ) -> EvaluationResult {
    let t0 = DispatchTime.now().uptimeNanoseconds
    let preds = predict(
      model: model, inputs: examples.map(\.inputs), budget: budget, halt: halt, untilStable: untilStable,
      batchSize: batchSize, threads: threads)
    let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
    var exact = 0, cells = 0, supervised = 0, stepSum = 0
    for (e, p) in zip(examples, preds) {
      let r = e.grade(p.tokens)
      cells += r.correctCells
      supervised += r.supervisedCells
      if r.exact { exact += 1 }
      stepSum += p.supervisionSteps
    }
    let n = max(1, examples.count)
    return EvaluationResult(
      count: examples.count, exactAccuracy: Double(exact) / Double(n),
      cellAccuracy: Double(cells) / Double(max(1, supervised)),
      meanSupervisionSteps: Double(stepSum) / Double(n), millisecondsPerExample: ms / Double(n), predictions: preds)
  }
}

/// The listed rows (first axis) of a tensor, in order.
func gatherRows(_ t: Tensor, _ rows: [Int]) -> Tensor {
  let per = t.count / max(t.shape[0], 1)
  var out = Tensor(uninitializedShape: [rows.count] + t.shape.dropFirst())
  out.withMutableData { dst in
    for (i, r) in rows.enumerated() { (dst + i * per).update(from: t.data + r * per, count: per) }
  }
  return out
}

/// The rows of several tensors of equal row shape, one after the other (inverse of `gatherRows`
/// over consecutive ranges).
func concatenateRows(_ parts: [Tensor]) -> Tensor {
  let rows = parts.reduce(0) { $0 + $1.shape[0] }
  var out = Tensor(uninitializedShape: [rows] + parts[0].shape.dropFirst())
  out.withMutableData { dst in
    var offset = 0
    for t in parts {
      (dst + offset).update(from: t.data, count: t.count)
      offset += t.count
    }
  }
  return out
}
