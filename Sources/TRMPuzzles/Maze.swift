import TRMRandom

/// A square maze of side S, cells row-major.
///
/// Text format: `MAZE` or `MAZE,SOLUTION`, each S² characters: `#` wall, ` ` or `.` open, `S`
/// start, `G` goal; the solution is the same grid with the cells of one shortest S→G path
/// (excluding S and G) marked `o` (the Maze-Hard layout). We write open cells as `.`.
/// Token encoding (reference): PAD 0, `#` 1, open 2, `S` 3, `G` 4, `o` 5.
public struct Maze: Equatable, Sendable {
  public enum Cell: Int32, Sendable { case wall = 1, open = 2, start = 3, goal = 4, path = 5 }
  public let side: Int
  public var cells: [Cell]
  public var solution: [Cell]?

  public init(side: Int, cells: [Cell], solution: [Cell]? = nil) {
    self.side = side
    self.cells = cells
    self.solution = solution
  }

  static func cell(_ ch: Character, allowPath: Bool) -> Cell? {
    switch ch {
    case "#": return .wall
    case " ", ".": return .open
    case "S": return .start
    case "G": return .goal
    case "o": return allowPath ? .path : nil
    default: return nil
    }
  }

  /// Parses one line (not trimmed: spaces are open cells).
  public init(line: String) throws {
    var l = Substring(line)
    if l.last == "\r" { l = l.dropLast() }
    let parts = l.split(separator: ",", omittingEmptySubsequences: false)
    guard parts.count <= 2 else {
      throw PuzzleError.reason("expected MAZE or MAZE,SOLUTION, found \(parts.count) fields")
    }
    let n = parts[0].count
    let side = Int(Double(n).squareRoot().rounded())
    guard side * side == n, side >= 2 else {
      throw PuzzleError.reason("maze has \(n) characters, which is not a square grid")
    }
    func parse(_ s: Substring, path: Bool) throws -> [Cell] {
      try s.enumerated().map { i, ch in
        guard let c = Maze.cell(ch, allowPath: path) else {
          throw PuzzleError.reason(
            "bad character '\(ch)' at row \(i / side + 1), column \(i % side + 1) (allowed: # . space S "
              + "G\(path ? " o" : ""))"
          )
        }
        return c
      }
    }
    let cells = try parse(parts[0], path: false)
    guard cells.filter({ $0 == .start }).count == 1, cells.filter({ $0 == .goal }).count == 1 else {
      throw PuzzleError.reason("maze needs exactly one S and one G")
    }
    var sol: [Cell]? = nil
    if parts.count == 2 {
      guard parts[1].count == n else {
        throw PuzzleError.reason("solution has \(parts[1].count) characters, maze has \(n)")
      }
      sol = try parse(parts[1], path: true)
    }
    self.init(side: side, cells: cells, solution: sol)
    guard shortestPathLength() != nil else { throw PuzzleError.reason("no path from S to G") }
    if let sol, let reason = verify(sol) { throw PuzzleError.reason("inconsistent solution: \(reason)") }
  }

  /// The cell an answer character stands for (`#`, `.` or space, `S`, `G`, `o`), nil otherwise.
  static func cell(_ ch: Character) -> Cell? {
    switch ch {
    case "#": return .wall
    case ".", " ": return .open
    case "S": return .start
    case "G": return .goal
    case "o": return .path
    default: return nil
    }
  }

  static func char(_ c: Cell) -> Character {
    switch c {
    case .wall: return "#"
    case .open: return "."
    case .start: return "S"
    case .goal: return "G"
    case .path: return "o"
    }
  }

  public var inputText: String { String(cells.map(Maze.char)) }
  public var line: String { inputText + (solution.map { "," + String($0.map(Maze.char)) } ?? "") }

  var start: Int { cells.firstIndex(of: .start)! }
  var goal: Int { cells.firstIndex(of: .goal)! }

  func neighbours(_ i: Int) -> [Int] {
    let r = i / side, c = i % side
    var out: [Int] = []
    if r > 0 { out.append(i - side) }
    if r + 1 < side { out.append(i + side) }
    if c > 0 { out.append(i - 1) }
    if c + 1 < side { out.append(i + 1) }
    return out
  }

  /// BFS distances from S through non-wall cells (−1 = unreachable).
  func distances(from s: Int, passable: (Int) -> Bool) -> [Int] {
    var d = [Int](repeating: -1, count: cells.count)
    var queue = [s]
    d[s] = 0
    var head = 0
    while head < queue.count {
      let i = queue[head]
      head += 1
      for j in neighbours(i) where d[j] < 0 && passable(j) {
        d[j] = d[i] + 1
        queue.append(j)
      }
    }
    return d
  }

  /// Number of moves on a shortest S→G path, nil if G is unreachable.
  public func shortestPathLength() -> Int? {
    let d = distances(from: start) { self.cells[$0] != .wall }
    return d[goal] >= 0 ? d[goal] : nil
  }

  /// The canonical shortest path marked with `o`: from S, always to the first neighbour — down,
  /// left, right, up — one move closer to G. This is the rule behind Maze-Hard's labels (every
  /// one of the 1,000 lines of `maze30_hrm_hard_train.txt` follows it), so a model trained on it
  /// answers in that file's terms; where the shortest path is unique it is that path.
  public func labelled() -> Maze {
    var m = self
    let d = distances(from: goal) { self.cells[$0] != .wall }
    var sol = cells
    var i = start
    while d[i] > 1 {
      let r = i / side, c = i % side
      // Down, left, right, up.
      let options = [r + 1 < side ? i + side : -1, c > 0 ? i - 1 : -1, c + 1 < side ? i + 1 : -1, r > 0 ? i - side : -1]
      i = options.first { $0 >= 0 && d[$0] == d[i] - 1 }!
      sol[i] = .path
    }
    m.solution = sol
    return m
  }

  /// Exact verifier: nil if `answer` keeps walls, S and G, marks only open cells with `o`, and
  /// the marked cells form a 4-connected S→G path of shortest length (any shortest path).
  public func verify(_ answer: [Cell]) -> String? {
    guard answer.count == cells.count else { return "answer has \(answer.count) cells, expected \(cells.count)" }
    for i in 0..<cells.count {
      let a = answer[i], c = cells[i]
      if a == .path {
        if c != .open { return "cell (\(i / side + 1),\(i % side + 1)) is marked o but is not open" }; continue
      }
      if a != c && !(a == .open && c == .open) { return "cell (\(i / side + 1),\(i % side + 1)) differs from the maze" }
    }
    guard let best = shortestPathLength() else { return "maze has no path" }
    let marked = answer.filter { $0 == .path }.count
    if marked != best - 1 { return "path marks \(marked) cells, a shortest path has \(best - 1)" }
    let d = distances(from: start) { answer[$0] == .path || answer[$0] == .goal }
    if d[goal] != best { return "marked cells do not connect S to G" }
    return nil
  }

  /// Of all shortest S→G paths, the one whose cells score highest in total (`pathScores`: one
  /// number per cell, e.g. a model's logit for "path" minus its logit for "open"; ties go to the
  /// first neighbour in the fixed order up, down, left, right). Where a maze has several
  /// shortest paths, training on this one accepts whichever the model is already drawing: if
  /// the model's answer is a shortest path, it is the one returned. Nil if the scores do not
  /// match the maze or G is unreachable.
  public func nearestShortestPath(pathScores w: [Float]) -> Maze? {
    guard w.count == cells.count else { return nil }
    let passable: (Int) -> Bool = { self.cells[$0] != .wall }
    let ds = distances(from: start, passable: passable), dg = distances(from: goal, passable: passable)
    let length = ds[goal]
    guard length > 0 else { return nil }
    // Dynamic programming over the cells on some shortest path, nearest S first.
    let onSomePath = cells.indices.filter { ds[$0] >= 0 && dg[$0] >= 0 && ds[$0] + dg[$0] == length }
    var best = [Float](repeating: -.infinity, count: cells.count)
    var previous = [Int](repeating: -1, count: cells.count)
    best[start] = 0
    for x in onSomePath.sorted(by: { ds[$0] < ds[$1] }) where x != start {
      var from = -1
      for y in neighbours(x) where ds[y] == ds[x] - 1 && best[y] > (from < 0 ? -.infinity : best[from]) { from = y }
      previous[x] = from
      best[x] = best[from] + (x == goal ? 0 : w[x])
    }
    var m = self
    var sol = cells
    var i = previous[goal]
    while i != start {
      sol[i] = .path
      i = previous[i]
    }
    m.solution = sol
    return m
  }

  // MARK: - Generator

  /// Number of distinct shortest S→G paths, counted up to `cap` (1 = the label is unambiguous;
  /// 0 = no path).
  public func shortestPathCount(cap: Int = 2) -> Int {
    let (d, ways) = pathCounts(from: start, cap: cap)
    return d[goal] >= 0 ? ways[goal] : 0
  }

  /// BFS distances from `s` through non-wall cells and the number of distinct shortest paths
  /// to every cell, counted up to `cap` (0 where unreachable).
  func pathCounts(from s: Int, cap: Int) -> (distances: [Int], ways: [Int]) {
    let d = distances(from: s) { self.cells[$0] != .wall }
    var ways = [Int](repeating: 0, count: cells.count)
    ways[s] = 1
    for i in cells.indices.filter({ d[$0] > 0 }).sorted(by: { d[$0] < d[$1] }) {
      ways[i] = min(cap, neighbours(i).reduce(0) { d[$1] == d[i] - 1 ? $0 + ways[$1] : $0 })
    }
    return (d, ways)
  }

  /// A random maze of odd `side` ≥ 5: a perfect maze by randomized depth-first carving (one
  /// path between any two cells), then a fraction `loops` of the remaining inner walls between
  /// two corridors removed (so several paths exist and "shortest" matters). S and G are open
  /// cells at least `minPathLength` apart (the best pair found if none is that far) whose
  /// shortest path is unique, so the label is the only right answer (redrawn until it is).
  public static func generate(side: Int, loops: Double, minPathLength: Int, rng: inout SplitMix64) -> Maze {
    precondition(side >= 5 && side % 2 == 1, "maze side must be odd and ≥ 5, got \(side)")
    for _ in 0..<100 {
      if let m = attempt(side: side, loops: loops, minPathLength: minPathLength, rng: &rng) { return m }
    }
    // Settings under which far pairs never have a unique shortest path (e.g. loops near 1 on an
    // open lattice): the farthest pair whose shortest path is unique. Always exists (a cell and
    // its neighbour), so generation always ends.
    return farthestUniquePair(side: side, loops: loops, rng: &rng)
  }

  static func farthestUniquePair(side: Int, loops: Double, rng: inout SplitMix64) -> Maze {
    var m = Maze(side: side, cells: carve(side: side, loops: loops, rng: &rng))
    let open = m.cells.indices.filter { m.cells[$0] == .open }
    var best = (s: open[0], g: open[0], d: -1)
    for _ in 0..<16 {
      let s = open[rng.nextInt(below: open.count)]
      let (d, ways) = m.pathCounts(from: s, cap: 2)
      for g in open where g != s && ways[g] == 1 && d[g] > best.d { best = (s, g, d[g]) }
    }
    m.cells[best.s] = .start
    m.cells[best.g] = .goal
    return m.labelled()
  }

  /// A perfect maze by randomized depth-first carving from (1, 1), then a fraction `loops` of
  /// the inner walls that separate two corridors knocked out. No S or G yet.
  static func carve(side: Int, loops: Double, rng: inout SplitMix64) -> [Cell] {
    var cells = [Cell](repeating: .wall, count: side * side)
    var stack = [(1, 1)]
    cells[side + 1] = .open
    while let (r, c) = stack.last {
      var options: [(Int, Int)] = []
      for (dr, dc) in [(-2, 0), (2, 0), (0, -2), (0, 2)] {
        let nr = r + dr, nc = c + dc
        if nr > 0 && nr < side - 1 && nc > 0 && nc < side - 1 && cells[nr * side + nc] == .wall {
          options.append((nr, nc))
        }
      }
      if options.isEmpty { stack.removeLast(); continue }
      let (nr, nc) = options[rng.nextInt(below: options.count)]
      cells[((r + nr) / 2) * side + (c + nc) / 2] = .open
      cells[nr * side + nc] = .open
      stack.append((nr, nc))
    }
    guard loops > 0 else { return cells }
    for r in 1..<(side - 1) {
      for c in 1..<(side - 1) where cells[r * side + c] == .wall && (r + c) % 2 == 1 {
        let horizontal = cells[r * side + c - 1] == .open && cells[r * side + c + 1] == .open
        let vertical = cells[(r - 1) * side + c] == .open && cells[(r + 1) * side + c] == .open
        if (horizontal || vertical) && rng.nextDouble() < loops { cells[r * side + c] = .open }
      }
    }
    return cells
  }

  static func attempt(side: Int, loops: Double, minPathLength: Int, rng: inout SplitMix64) -> Maze? {
    let cells = carve(side: side, loops: loops, rng: &rng)
    let open = cells.indices.filter { cells[$0] == .open }
    let maze = Maze(side: side, cells: cells)
    var best: Maze? = nil, bestLen = -1
    for _ in 0..<64 {
      let s = open[rng.nextInt(below: open.count)]
      let d = maze.distances(from: s) { cells[$0] != .wall }
      let far = open.filter { d[$0] >= minPathLength }
      let g = far.isEmpty ? open.max { d[$0] < d[$1] }! : far[rng.nextInt(below: far.count)]
      guard g != s, far.isEmpty ? d[g] > bestLen : true else { continue }
      var m = maze
      m.cells[s] = .start
      m.cells[g] = .goal
      if loops > 0 && m.shortestPathCount() != 1 { continue }
      if !far.isEmpty { return m.labelled() }
      best = m
      bestLen = d[g]
    }
    return best?.labelled()
  }

  // MARK: - Augmentation

  /// The `k`-th of the 8 dihedral symmetries (k in 0..<8: rotations, then mirrored rotations).
  /// The symmetry that undoes `dihedral(k)`: rotations invert to the opposite rotation; the four
  /// reflections are their own inverses.
  public static func inverseDihedral(_ k: Int) -> Int { k < 4 ? (4 - k) % 4 : k }

  /// Cells (an answer) of `dihedral(k)` brought back to this maze's frame.
  public func undihedral(_ cells: [Cell], _ k: Int) -> [Cell] {
    Maze(side: side, cells: cells).dihedral(Maze.inverseDihedral(k)).cells
  }

  public func dihedral(_ k: Int) -> Maze {
    let n = side
    func map(_ a: [Cell]) -> [Cell] {
      var out = a
      for r in 0..<n {
        for c in 0..<n {
          var (rr, cc) = (r, c)
          for _ in 0..<(k % 4) { (rr, cc) = (cc, n - 1 - rr) }
          if k >= 4 { cc = n - 1 - cc }
          out[rr * n + cc] = a[r * n + c]
        }
      }
      return out
    }
    return Maze(side: n, cells: map(cells), solution: solution.map(map))
  }

  // MARK: - Encoding

  public static let vocabularySize = 6
  public var inputTokens: [Int32] { cells.map(\.rawValue) }
  public var targetTokens: [Int32]? { solution.map { $0.map(\.rawValue) } }
  /// The answer a model's tokens describe: walls, S and G are given by the maze (a prediction
  /// there is ignored); an open cell is on the path when its token is `o`.
  public func decode(_ tokens: [Int32]) -> [Cell] {
    zip(cells, tokens).map { c, t in c == .open && t == Cell.path.rawValue ? .path : c }
  }
  /// Targets that supervise only the open cells (walls, S and G are given): `ignore` elsewhere.
  public func openCellTargets(ignore: Int32) -> [Int32]? {
    solution.map { sol in zip(cells, sol).map { c, t in c == .open ? t.rawValue : ignore } }
  }
  public func answerText(_ answer: [Cell]) -> String { String(answer.map(Maze.char)) }
}
