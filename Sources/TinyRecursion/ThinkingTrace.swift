import Foundation
import TRMTensor
import TRMTraining

/// One puzzle's answer after each supervision step: what `trm trace` draws.
public struct ThinkingTrace: Sendable {
  public var puzzle: Puzzle
  /// The decoded answer text after step 1, 2, … K.
  public var answers: [String]
  /// Verifier verdict after each step (nil = valid).
  public var verdicts: [String?]
  /// σ(halt logit) after each step (empty for the baseline).
  public var haltProbabilities: [Double]
  /// Predicted tokens after each step.
  public var tokens: [[Int32]]
}

extension Reasoner {
  /// Runs one puzzle for `supervisionSteps` steps (default: the budget's N_sup) and keeps the
  /// answer after every step.
  public func trace(_ puzzle: Puzzle, supervisionSteps: Int? = nil) throws -> ThinkingTrace {
    if let other = try sizeGroups([puzzle]).first?.reasoner, other !== self {
      return try other.trace(puzzle, supervisionSteps: supervisionSteps)
    }
    let budget = try budget(supervisionSteps: supervisionSteps)
    let input = try layout.inputTokens(puzzle)
    let L = model.config.sequenceLength, V = model.config.vocabSize
    var carry = model.initialCarry(batch: 1)
    let pool = BufferPool()
    var out = ThinkingTrace(puzzle: puzzle, answers: [], verdicts: [], haltProbabilities: [], tokens: [])
    for _ in 0..<(model.config.kind == .trm ? max(1, budget.supervisionSteps) : 1) {
      let o = model.step(
        Graph(recording: false, threads: threads, pool: pool), tokens: input, carry: carry, budget: budget)
      carry = o.carry
      let t = argmax(o.logits.value, rows: L, vocab: V)
      let (text, verdict) = layout.answer(for: puzzle, tokens: t)
      out.tokens.append(t)
      out.answers.append(text)
      out.verdicts.append(verdict)
      if let q = o.haltLogits?.value[flat: 0] { out.haltProbabilities.append(1 / (1 + _exp(-Double(q)))) }
    }
    return out
  }
}

/// Draws a trace as a strip of frames (standalone SVG): mazes and sudoku as grids, arithmetic as
/// text. Wrong cells against the puzzle's label are outlined in red; a frame whose answer the
/// verifier accepts gets a green title.
public struct ThinkingTraceSVG: Sendable {
  public var trace: ThinkingTrace
  public var title: String
  public init(trace: ThinkingTrace, title: String) {
    self.trace = trace
    self.title = title
  }

  public func svg() -> String {
    let frames = trace.answers.count
    let (gridSide, cell): (Int, Double) = {
      switch trace.puzzle {
      case .maze(let m): return (m.side, max(4, min(14, 240 / Double(m.side))))
      case .sudoku(let s): return (s.size, 24)
      case .arithmetic: return (0, 0)
      }
    }()
    let frameW = gridSide > 0 ? Double(gridSide) * cell : 220, frameH = gridSide > 0 ? Double(gridSide) * cell : 24
    let perRow = max(1, min(frames, Int(1200 / (frameW + 16))))
    let rows = (frames + perRow - 1) / perRow
    let W = Double(perRow) * (frameW + 16) + 16, H = 56 + Double(rows) * (frameH + 40)
    var s =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(W))\" height=\"\(Int(H))\" font-family=\"Helvetica, "
      + "Arial, sans-serif\">\n"
    s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    s += "<text x=\"16\" y=\"24\" font-size=\"15\">\(escape(title))</text>\n"
    s +=
      "<text x=\"16\" y=\"42\" font-size=\"11\" fill=\"#555\">answer after each supervision step; red outline: "
      + "differs from the label; green title: the verifier accepts it</text>\n"
    for f in 0..<frames {
      let x0 = 16 + Double(f % perRow) * (frameW + 16), y0 = 56 + Double(f / perRow) * (frameH + 40)
      let ok = trace.verdicts[f] == nil
      let halt = f < trace.haltProbabilities.count ? String(format: " halt %.2f", trace.haltProbabilities[f]) : ""
      s +=
        "<text x=\"\(x0)\" y=\"\(y0 + 14)\" font-size=\"11\" fill=\"\(ok ? "#2ca02c" : "#333")\">step "
        + "\(f + 1)\(ok ? " ✓" : "")\(halt)</text>\n"
      s += frame(f, x0: x0, y0: y0 + 22, cell: cell)
    }
    return s + "</svg>\n"
  }

  func frame(_ f: Int, x0: Double, y0: Double, cell: Double) -> String {
    var s = ""
    func rect(_ r: Int, _ c: Int, fill: String, stroke: String? = nil) {
      let st = stroke.map { " stroke=\"\($0)\" stroke-width=\"1.5\"" } ?? ""
      s +=
        "<rect x=\(fmt(x0 + Double(c) * cell)) y=\(fmt(y0 + Double(r) * cell)) width=\(fmt(cell)) height=\(fmt(cell)) "
        + "fill=\"\(fill)\"\(st)/>"
    }
    switch trace.puzzle {
    case .maze(let m):
      let answer = m.decode(trace.tokens[f])
      for i in 0..<m.cells.count {
        let r = i / m.side, c = i % m.side
        let labelPath = m.solution.map { $0[i] == .path }
        let fill: String
        switch answer[i] {
        case .wall: fill = "#222"
        case .start: fill = "#2ca02c"
        case .goal: fill = "#d62728"
        case .path: fill = "#1f77b4"
        case .open: fill = "#fff"
        }
        let wrong = labelPath.map { $0 != (answer[i] == .path) } ?? false
        rect(r, c, fill: fill, stroke: wrong ? "#ff3030" : nil)
      }
      s += "\n"
    case .sudoku(let sd):
      let answer = sd.decode(trace.tokens[f])
      for i in 0..<(sd.size * sd.size) {
        let r = i / sd.size, c = i % sd.size
        let wrong = sd.solution.map { $0[i] != answer[i] } ?? false
        rect(r, c, fill: sd.givens[i] != 0 ? "#eee" : "#fff", stroke: wrong ? "#ff3030" : "#bbb")
        let d = sd.givens[i] != 0 ? sd.givens[i] : answer[i]
        if d != 0 {
          s +=
            "<text x=\(fmt(x0 + (Double(c) + 0.5) * cell)) y=\(fmt(y0 + (Double(r) + 0.72) * cell)) font-size=\"13\" "
            + "text-anchor=\"middle\" fill=\"\(sd.givens[i] != 0 ? "#000" : (wrong ? "#d62728" : "#1f77b4"))\">\(d)<"
            + "/text>"
        }
      }
      s += "\n"
    case .arithmetic(let a):
      let right = a.answer.map { $0.description == trace.answers[f] } ?? false
      s +=
        "<text x=\(fmt(x0)) y=\(fmt(y0 + 14)) font-size=\"13\" font-family=\"monospace\" fill"
        + "=\"\(right ? "#2ca02c" : "#d62728")\">\(escape(a.inputText))=\(escape(trace.answers[f]))</text>\n"
    }
    return s
  }

  func fmt(_ v: Double) -> String { "\"" + String(format: "%.1f", v) + "\"" }
  func escape(_ t: String) -> String {
    t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
      of: ">", with: "&gt;")
  }
}
