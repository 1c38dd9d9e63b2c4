import Foundation

/// A minimal line chart written as standalone SVG (no external tools): labelled axes, ticks,
/// one or more series with point markers (optionally labelled), optional horizontal reference
/// lines, a legend; several charts side by side in one document.
public struct LineChart: Sendable {
  public struct Series: Sendable {
    public var name: String
    public var points: [(x: Double, y: Double)]
    public var color: String
    /// Text written next to each point, in the order of `points` (empty: none).
    public var labels: [String]
    public init(name: String, points: [(x: Double, y: Double)], color: String, labels: [String] = []) {
      self.name = name
      self.points = points
      self.color = color
      self.labels = labels
    }
  }
  public struct Reference: Sendable {
    public var name: String
    public var y: Double
    public var color: String
    public init(name: String, y: Double, color: String) {
      self.name = name
      self.y = y
      self.color = color
    }
  }

  public var title: String
  public var xLabel: String
  public var yLabel: String
  public var series: [Series]
  public var references: [Reference] = []
  /// Log2 x axis (for step counts 1, 2, 4, … 64).
  public var logX = true
  public var yRange: ClosedRange<Double> = 0...1
  /// y ticks as percentages of 1 (accuracies); false: plain numbers (costs, counts).
  public var percentY = true

  public init(title: String, xLabel: String, yLabel: String, series: [Series], references: [Reference] = []) {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.series = series
    self.references = references
  }

  static func esc(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
      of: ">", with: "&gt;")
  }

  /// The SVG document.
  public func svg(width: Double = 640, height: Double = 400) -> String {
    render(width: width, height: height, root: "xmlns=\"http://www.w3.org/2000/svg\"")
  }

  /// The chart as an `<svg>` element whose first attributes are `root` (the namespace for a
  /// document of its own, a position for one nested in another).
  func render(width: Double, height: Double, root: String) -> String {
    // The legend sits right of the plot: room for its longest name (≈ 6.6 px a character at 12 px),
    // at most half the width (a longer name is cut, the plot keeps its room).
    let longest = (series.map(\.name) + references.map(\.name)).map(\.count).max() ?? 0
    let left = 70.0, right = min(max(170.0, 50 + 6.6 * Double(longest)), 0.5 * width), top = 40.0, bottom = 55.0
    let pw = width - left - right, ph = height - top - bottom
    let xs = series.flatMap { $0.points.map(\.x) }
    let tx: (Double) -> Double = { logX ? log2(max($0, 1e-9)) : $0 }
    let x0 = tx(xs.min() ?? 1), x1 = max(tx(xs.max() ?? 2), x0 + 1)
    func px(_ x: Double) -> Double { left + (tx(x) - x0) / (x1 - x0) * pw }
    func py(_ y: Double) -> Double {
      top + (1 - (y - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound)) * ph
    }
    var s = """
      <svg \(root) width="\(Int(width))" height="\(Int(height))" \
      viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
      <rect width="100%" height="100%" fill="white"/>
      <text x="\(left + pw / 2)" y="22" text-anchor="middle" font-size="15">\(Self.esc(title))</text>

      """
    for i in 0...5 {
      let y = yRange.lowerBound + Double(i) / 5 * (yRange.upperBound - yRange.lowerBound)
      s += "<line x1=\"\(left)\" y1=\"\(py(y))\" x2=\"\(left + pw)\" y2=\"\(py(y))\" stroke=\"#e5e5e5\"/>\n"
      let tick = percentY ? String(format: "%.0f%%", y * 100) : String(format: "%.3g", y)
      s += "<text x=\"\(left - 8)\" y=\"\(py(y) + 4)\" text-anchor=\"end\">\(tick)</text>\n"
    }
    for x in Set(xs).sorted() {
      s +=
        "<text x=\"\(px(x))\" y=\"\(top + ph + 18)\" text-anchor=\"middle\""
        + ">\(x == x.rounded() ? String(Int(x)) : String(format: "%.2g", x))</text>\n"
    }
    s += "<line x1=\"\(left)\" y1=\"\(top + ph)\" x2=\"\(left + pw)\" y2=\"\(top + ph)\" stroke=\"black\"/>\n"
    s += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(top + ph)\" stroke=\"black\"/>\n"
    s += "<text x=\"\(left + pw / 2)\" y=\"\(height - 12)\" text-anchor=\"middle\">\(Self.esc(xLabel))</text>\n"
    s +=
      "<text x=\"18\" y=\"\(top + ph / 2)\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(top + ph / 2))\""
      + ">\(Self.esc(yLabel))</text>\n"
    var legendY = top + 10
    for r in references {
      s +=
        "<line x1=\"\(left)\" y1=\"\(py(r.y))\" x2=\"\(left + pw)\" y2=\"\(py(r.y))\" stroke=\"\(r.color)\" "
        + "stroke-dasharray=\"6 4\"/>\n"
      s +=
        "<line x1=\"\(left + pw + 12)\" y1=\"\(legendY)\" x2=\"\(left + pw + 32)\" y2=\"\(legendY)\" stroke"
        + "=\"\(r.color)\" stroke-dasharray=\"6 4\"/>\n"
      s += "<text x=\"\(left + pw + 38)\" y=\"\(legendY + 4)\">\(Self.esc(r.name))</text>\n"
      legendY += 20
    }
    for (index, sr) in series.enumerated() {
      let labelled = sr.points.indices.map { (sr.points[$0], $0 < sr.labels.count ? sr.labels[$0] : "") }
      let pts = labelled.sorted { $0.0.x < $1.0.x }
      let path = pts.map { "\(px($0.0.x)),\(py($0.0.y))" }.joined(separator: " ")
      s += "<polyline fill=\"none\" stroke=\"\(sr.color)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
      // Labels staggered by series, so that curves meeting at one point stay readable.
      let stagger = (Double(index) - Double(series.count - 1) / 2) * 11
      for (p, label) in pts {
        s += "<circle class=\"point\" cx=\"\(px(p.x))\" cy=\"\(py(p.y))\" r=\"3.5\" fill=\"\(sr.color)\"/>\n"
        if !label.isEmpty {
          s +=
            "<text x=\"\(px(p.x) + 6)\" y=\"\(py(p.y) + 4 + stagger)\" fill=\"\(sr.color)\" font-size=\"10\""
            + ">\(Self.esc(label))</text>\n"
        }
      }
      s +=
        "<line x1=\"\(left + pw + 12)\" y1=\"\(legendY)\" x2=\"\(left + pw + 32)\" y2=\"\(legendY)\" stroke"
        + "=\"\(sr.color)\" stroke-width=\"2\"/>\n"
      s += "<text x=\"\(left + pw + 38)\" y=\"\(legendY + 4)\">\(Self.esc(sr.name))</text>\n"
      legendY += 20
    }
    return s + "</svg>\n"
  }

  /// Several charts of the same size in one SVG document, left to right.
  public static func sideBySide(_ charts: [LineChart], width: Double = 640, height: Double = 400) -> String {
    var s = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width) * charts.count)" height="\(Int(height))">

      """
    for (i, chart) in charts.enumerated() {
      s += chart.render(width: width, height: height, root: "x=\"\(Int(width) * i)\"")
    }
    return s + "</svg>\n"
  }
}
