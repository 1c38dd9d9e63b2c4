import Foundation
import TRMModel
import TRMRandom
import TRMTensor
import TRMTraining
import XCTest

/// Golden values from an independent implementation: the PyTorch reference TRM in
/// `../shared/bench/trm_torch.py`, given our initial weights, on the same tokens
/// (`Benchmarks/golden/make_golden.py` made `Golden/*.json`; run this test with
/// TRM_GOLDEN_WEIGHTS=DIR to write the weights it reads). Two supervision steps, the carry passed
/// on: logits, halting logits and the loss (softmax CE + 0.5 BCE) must agree.
///
/// Tolerance: float32 on both sides with different summation orders (our SIMD GEMM vs. torch's
/// BLAS) through 2 steps · T(n + 1) · 2 blocks = 24 post-norm blocks: |Δ| ≤ 5e-5 · (1 + |value|) for
/// logits and halting logits (measured worst: 1.2e-6 attention, 7.2e-6 sequence MLP, torch
/// 2.13.0+cpu), |Δloss| ≤ 1e-4. A swapped gate/up half or another rotary pairing is off by > 1e-1.
final class GoldenReferenceTests: XCTestCase {
  static let tolerance: Float = 5e-5

  /// The reference layout: no prefix (the halting head reads the first cell), head dim 64,
  /// SwiGLU widths rounded to 256.
  static func config(_ mixer: TokenMixer) -> ModelConfig {
    var c = ModelConfig(vocabSize: 6, sequenceLength: 16)
    c.width = 64
    c.heads = 1
    c.mixer = mixer
    c.prefixLength = 0
    c.swigluMultiple = 256
    c.budget = RecursionBudget(latentSteps: 2, recursions: 2, supervisionSteps: 2)
    return c
  }

  struct Golden: Decodable {
    struct Step: Decodable {
      var logits: [Float]
      var halt_logits: [Float]
      var loss: Double
    }
    var tokens: [Int32]
    var labels: [Int32]
    var steps: [Step]
  }

  func check(_ mixer: TokenMixer, file name: String) throws {
    let model = try RecursiveModel(config: Self.config(mixer), seed: 5)
    // A halting head that reads its input (it starts at weight 0, which would make the halting
    // logits −5 whatever the network computes).
    var rng = SplitMix64(seed: 6)
    model.haltWeight?.value = Tensor((0..<64).map { _ in Float(rng.nextDouble() - 0.5) * 0.5 }, shape: [1, 64])
    if let dir = ProcessInfo.processInfo.environment["TRM_GOLDEN_WEIGHTS"] {
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      try Checkpoint.save(model: model, to: URL(fileURLWithPath: dir).appendingPathComponent("\(name).safetensors"))
    }
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name).json")
    let golden = try JSONDecoder().decode(Golden.self, from: try Data(contentsOf: url))
    let B = golden.tokens.count / 16
    var carry = model.initialCarry(batch: B)
    for (k, step) in golden.steps.enumerated() {
      let g = Graph(recording: false)
      let out = model.step(g, tokens: golden.tokens, carry: carry)
      carry = out.carry
      let logits = out.logits.value.scalars
      XCTAssertEqual(logits.count, step.logits.count)
      var worst: (error: Float, index: Int) = (0, -1)
      for (i, (a, b)) in zip(logits, step.logits).enumerated() {
        let e = abs(a - b) / (1 + abs(b))
        if e > worst.error { worst = (e, i) }
      }
      XCTAssertLessThanOrEqual(
        worst.error, Self.tolerance, "\(name) step \(k + 1): logit \(worst.index) off by \(worst.error)")
      let halt = out.haltLogits?.value.scalars ?? []
      for (a, b) in zip(halt, step.halt_logits) { XCTAssertEqual(a, b, accuracy: Self.tolerance * (1 + abs(b))) }
      // The loss as the trainer defines it.
      let exact = (0..<B).map { b in
        Example.grade(
          argmax(out.logits.value, rows: B * 16, vocab: 6)[(b * 16)..<((b + 1) * 16)],
          targets: golden.labels[(b * 16)..<((b + 1) * 16)]
        ).exact
      }
      let lm = g.mean(g.crossEntropy(out.logits, labels: golden.labels, kind: .softmax, ignore: Example.ignore))
      let bce = g.mean(g.bceWithLogits(out.haltLogits!, targets: exact.map { $0 ? 1 : 0 }))
      let loss = Double(lm.value[flat: 0]) + 0.5 * Double(bce.value[flat: 0])
      XCTAssertEqual(loss, step.loss, accuracy: 1e-4, "\(name) step \(k + 1) loss")
    }
  }

  func testAttentionTRMMatchesThePyTorchReference() throws { try check(.attention, file: "trm-attn") }
  func testSequenceMLPTRMMatchesThePyTorchReference() throws { try check(.mlp, file: "trm-mlp") }
}
