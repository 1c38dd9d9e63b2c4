import TRMRandom
import XCTest

import TRMPuzzles

/// Long numbers and the arithmetic grid layout (digits aligned by significance, scratchpad rows
/// for multiplication), each checked against an independent computation.
final class LongNumberTests: XCTestCase {
  func testAddAndMultiplyAgreeWithMachineIntegers() {
    var rng = SplitMix64(seed: 5)
    for _ in 0..<2000 {
      let x = rng.next() >> UInt64(rng.nextInt(below: 64)), y = rng.next() >> UInt64(33 + rng.nextInt(below: 31))
      let (sum, o) = x.addingReportingOverflow(y)
      if !o { XCTAssertEqual((LongNumber(x) + LongNumber(y)).description, String(sum)) }
      let small = x >> 33
      XCTAssertEqual((LongNumber(small) * LongNumber(y)).description, String(small * y))
    }
    XCTAssertEqual(LongNumber("000120")?.description, "120")
    XCTAssertEqual(LongNumber("0")?.digits, [0])
    XCTAssertNil(LongNumber("12a"))
    XCTAssertNil(LongNumber(""))
    XCTAssertNil(LongNumber("-1"))
    XCTAssertEqual(LongNumber(7).shifted(by: 3), 7000)
    XCTAssertEqual(LongNumber(0).shifted(by: 3), 0)
    XCTAssertLessThan(LongNumber(99), LongNumber(100))
    XCTAssertLessThan(LongNumber(123), LongNumber(124))
  }

  /// Beyond 64 bits: (10^k − 1)² = 10^2k − 2·10^k + 1 and (10^k − 1) + 1 = 10^k.
  func testLongIdentities() {
    for k in [19, 20, 33, 100] {
      let nines = LongNumber(String(repeating: "9", count: k))!
      XCTAssertEqual(
        (nines * nines).description,
        String(repeating: "9", count: k - 1) + "8" + String(repeating: "0", count: k - 1) + "1")
      XCTAssertEqual((nines + 1).description, "1" + String(repeating: "0", count: k))
    }
  }

  func testRandomNumbersHaveTheirLength() {
    var rng = SplitMix64(seed: 9)
    for length in [1, 2, 7, 40] {
      for _ in 0..<50 { XCTAssertEqual(LongNumber.random(length: length, rng: &rng).count, length) }
    }
  }
}

final class ArithmeticGridTests: XCTestCase {
  /// Decodes a grid row of output tokens (2…11) to its number.
  func rowNumber(_ t: ArraySlice<Int32>) -> LongNumber {
    LongNumber(leastSignificantFirst: t.map { UInt8($0 - 2) })
  }

  /// 123 × 456 written out: P0 = 738, P1 = 6150, S1 = 6888, P2 = 49200, S2 = 56088.
  func testMultiplicationScratchpadByHand() throws {
    let x = try Arithmetic(line: "123*456")
    let rows = Arithmetic.Grid.rows(op: .multiply, digits: 3), w = Arithmetic.Grid.columns(op: .multiply, digits: 3)
    XCTAssertEqual(rows, 5)
    XCTAssertEqual(w, 6)
    let t = try XCTUnwrap(x.gridTargetTokens(digits: 3))
    XCTAssertEqual(t.count, rows * w)
    let values = (0..<rows).map { r in rowNumber(t[(r * w)..<((r + 1) * w)]) }
    XCTAssertEqual(values, [738, 6150, 6888, 49200, 56088])
    let input = try XCTUnwrap(x.gridInputTokens(digits: 3))
    // Row P1 (b1 = 5): column 0 reads (0, 5), column 1 (a0 = 3, 5), column 3 (a2 = 1, 5).
    XCTAssertEqual(input[w + 0], 12 + 0 + 5)
    XCTAssertEqual(input[w + 1], 12 + 30 + 5)
    XCTAssertEqual(input[w + 3], 12 + 10 + 5)
    XCTAssertEqual(input[w + 4], 12 + 0 + 5, "beyond A: zero digit beside b1")
    XCTAssertEqual(Array(input[(2 * w)..<(3 * w)]), Array(repeating: 112, count: w), "S1: running-sum marker")
    XCTAssertEqual(Arithmetic.Grid.answerCells(op: .multiply, digits: 3), 24..<30)
  }

  func testAdditionIsOneRowOfDigitPairs() throws {
    let x = try Arithmetic(line: "95+7")
    XCTAssertEqual(x.gridInputTokens(digits: 2), [12 + 57, 12 + 90, 12])
    XCTAssertEqual(x.gridTargetTokens(digits: 2), [2 + 2, 2 + 0, 2 + 1])
    XCTAssertEqual(Arithmetic.gridDecodeText([4, 2, 3], digits: 2, op: .add), "102")
    XCTAssertNil(Arithmetic.gridDecodeText([4, 50, 3], digits: 2, op: .add), "a pair token is not a digit")
    XCTAssertNil(Arithmetic.gridDecodeText([4, 2], digits: 2, op: .add), "wrong length")
    XCTAssertNil(x.gridInputTokens(digits: 1), "operand longer than the grid")
  }

  /// For random problems of mixed lengths in grids of several widths, every scratchpad row holds
  /// its partial product or running sum and the answer row decodes to the exact result.
  func testEveryRowHoldsItsValueForRandomProblems() {
    var rng = SplitMix64(seed: 21)
    for op in [Arithmetic.Op.add, .multiply] {
      for digits in [1, 2, 4, 7] {
        for _ in 0..<30 {
          let x = Arithmetic.generate(
            op: op, lengths: (1 + rng.nextInt(below: digits), 1 + rng.nextInt(below: digits)), rng: &rng)
          let t = x.gridTargetTokens(digits: digits)!
          let w = Arithmetic.Grid.columns(op: op, digits: digits)
          XCTAssertEqual(x.gridInputTokens(digits: digits)!.count, t.count)
          XCTAssertEqual(Arithmetic.gridDecodeText(t, digits: digits, op: op), x.result.description)
          guard op == .multiply else { continue }
          var sum: LongNumber = 0
          for j in 0..<digits {
            let p = (x.a * LongNumber(UInt64(x.b[j]))).shifted(by: j)
            sum = sum + p
            let pRow = j == 0 ? 0 : 2 * j - 1
            XCTAssertEqual(rowNumber(t[(pRow * w)..<((pRow + 1) * w)]), p, "\(x.inputText) P\(j)")
            if j > 0 { XCTAssertEqual(rowNumber(t[((pRow + 1) * w)..<((pRow + 2) * w)]), sum, "\(x.inputText) S\(j)") }
          }
        }
      }
    }
  }

  func testEvaluationShareIsOperandOrderFreeAndAboutOneInSixteen() {
    var rng = SplitMix64(seed: 4)
    var reserved = 0
    let n = 8000
    for _ in 0..<n {
      let x = Arithmetic.generate(op: .multiply, digits: 3, rng: &rng)
      XCTAssertEqual(x.isReservedForEvaluation, x.swapped.isReservedForEvaluation)
      if x.isReservedForEvaluation { reserved += 1 }
    }
    XCTAssertEqual(Double(reserved) / Double(n), 1.0 / 16, accuracy: 0.015)
    var o = GeneratorOptions()
    o.op = .add
    o.digits = 5
    o.reservedForEvaluation = true
    let evalSet = PuzzleSet.generate(task: .arithmetic, count: 100, seed: 1, options: o)
    XCTAssertEqual(evalSet.puzzles.count, 100)
    o.reservedForEvaluation = false
    let trainSet = PuzzleSet.generate(task: .arithmetic, count: 100, seed: 1, options: o)
    for case .arithmetic(let x) in evalSet.puzzles { XCTAssertTrue(x.isReservedForEvaluation) }
    for case .arithmetic(let x) in trainSet.puzzles { XCTAssertFalse(x.isReservedForEvaluation) }
  }
}

final class CarryChainTests: XCTestCase {
  /// Every generated sum has operands of the requested length and a longest carry chain of
  /// exactly the requested length, counted by an independent digit-by-digit scan here.
  func testCarryChainSumsHaveTheirChain() {
    var rng = SplitMix64(seed: 77)
    for (digits, chain) in [(2, 1), (8, 7), (16, 12), (32, 20), (32, 31)] {
      for _ in 0..<100 {
        let x = Arithmetic.generateCarryChain(digits: digits, chain: chain, rng: &rng)
        XCTAssertEqual(x.a.count, digits)
        XCTAssertEqual(x.b.count, digits)
        XCTAssertNil(x.verify(x.answer))
        // Independent count: positions whose digit sum is 9 and that receive a carry.
        var longest = 0, run = 0, carry = 0
        for k in 0..<digits {
          let s = Int(x.a[k]) + Int(x.b[k]) + carry
          run = carry == 1 && Int(x.a[k]) + Int(x.b[k]) == 9 ? run + 1 : 0
          longest = max(longest, run)
          carry = s >= 10 ? 1 : 0
        }
        XCTAssertGreaterThanOrEqual(longest, chain, x.inputText)
        XCTAssertEqual(x.longestCarryChain, longest, x.inputText)
      }
    }
    // Random 32-digit sums: chains are short.
    var long = 0
    for _ in 0..<500 where Arithmetic.generate(op: .add, digits: 32, rng: &rng).longestCarryChain >= 8 { long += 1 }
    XCTAssertLessThan(long, 5)
  }
}
