import TRMRandom

/// Mazes of the Maze-Hard kind (the 30×30 set of the HRM and TRM papers, after Lehnert et al.
/// 2024): walls dropped at random on any cell (no lattice, no wall border), S and G far apart.
/// Such mazes have open areas and very many shortest paths (median ~10⁶ on Maze-Hard), so a
/// file's label is one arbitrary shortest path; `Maze.labelled()` gives the canonical one.
///
/// A style is fitted to a training file (`infer(from:)`): the range of its wall shares and its
/// shortest path length, so that generated mazes look like the file's.
public struct OpenPlanMazeStyle: Equatable, Sendable, CustomStringConvertible {
  public var side: Int
  /// Share of cells that are walls, drawn uniformly from this range for each maze.
  public var wallDensity: ClosedRange<Double>
  /// Moves on the shortest S→G path, at least (the longest pair found if no maze reaches it).
  public var minPathLength: Int

  public init(side: Int, wallDensity: ClosedRange<Double>, minPathLength: Int) {
    precondition(side >= 2, "maze side must be ≥ 2, got \(side)")
    precondition(wallDensity.lowerBound >= 0 && wallDensity.upperBound < 1, "wall density must be in [0, 1)")
    self.side = side
    self.wallDensity = wallDensity
    self.minPathLength = max(1, minPathLength)
  }

  /// The open-plan style of `mazes` (one side), or nil when they are lattice mazes: odd side and
  /// a full wall border, what `Maze.generate` makes.
  public static func infer(from mazes: [Maze]) -> OpenPlanMazeStyle? {
    guard let side = mazes.first?.side, mazes.allSatisfy({ $0.side == side }) else { return nil }
    if side % 2 == 1 && mazes.allSatisfy(\.hasWallBorder) { return nil }
    let densities = mazes.map { m in Double(m.cells.filter { $0 == .wall }.count) / Double(m.cells.count) }
    let shortest = mazes.compactMap { $0.shortestPathLength() }.min() ?? 1
    return OpenPlanMazeStyle(
      side: side, wallDensity: densities.min()!...densities.max()!, minPathLength: shortest)
  }

  public var description: String {
    "open-plan \(side)×\(side), walls \(Int((wallDensity.lowerBound * 100).rounded()))–"
      + "\(Int((wallDensity.upperBound * 100).rounded()))%, shortest path ≥ \(minPathLength)"
  }
}

extension Maze {
  /// Whether every border cell is a wall (lattice mazes; Maze-Hard's are open at the border).
  public var hasWallBorder: Bool {
    (0..<side).allSatisfy { i in
      cells[i] == .wall && cells[(side - 1) * side + i] == .wall && cells[i * side] == .wall
        && cells[i * side + side - 1] == .wall
    }
  }

  /// A random open-plan maze of `style`, labelled with its canonical shortest path: walls
  /// with a density drawn from the style's range; a far pair is found by two BFS sweeps, then S
  /// and G are drawn among the pairs at least `minPathLength` apart. Redrawn until a maze
  /// reaches that length (about 1 in 100 at Maze-Hard's 37% walls and 109 moves); after 4,000
  /// draws the longest found is returned, so generation always ends.
  public static func generateOpenPlan(_ style: OpenPlanMazeStyle, rng: inout SplitMix64) -> Maze {
    let n = style.side * style.side
    var best: (maze: Maze, length: Int)? = nil
    for _ in 0..<4000 {
      let (lo, hi) = (style.wallDensity.lowerBound, style.wallDensity.upperBound)
      let p = lo + rng.nextDouble() * (hi - lo)
      var cells = [Cell](repeating: .open, count: n)
      for i in 0..<n where rng.nextDouble() < p { cells[i] = .wall }
      let open = cells.indices.filter { cells[$0] == .open }
      guard open.count >= 2 else { continue }
      let maze = Maze(side: style.side, cells: cells)
      let passable: (Int) -> Bool = { cells[$0] != .wall }
      let d0 = maze.distances(from: open[rng.nextInt(below: open.count)], passable: passable)
      let a = open.max { d0[$0] < d0[$1] }!
      let da = maze.distances(from: a, passable: passable)
      let far = open.filter { da[$0] >= style.minPathLength }
      if far.isEmpty {
        let b = open.max { da[$0] < da[$1] }!
        if da[b] > (best?.length ?? 0) {
          var m = maze
          m.cells[a] = .start
          m.cells[b] = .goal
          best = (m, da[b])
        }
        continue
      }
      // G among the cells far from the sweep's end, S among the cells far from G.
      let g = far[rng.nextInt(below: far.count)]
      let dg = maze.distances(from: g, passable: passable)
      let starts = open.filter { dg[$0] >= style.minPathLength }
      let s = starts[rng.nextInt(below: starts.count)]
      var m = maze
      m.cells[s] = .start
      m.cells[g] = .goal
      return m.labelled()
    }
    if let best { return best.maze.labelled() }
    // Walls everywhere but two cells at every draw (density near 1): the two corners, opened.
    var cells = [Cell](repeating: .open, count: n)
    cells[0] = .start
    cells[n - 1] = .goal
    return Maze(side: style.side, cells: cells).labelled()
  }
}
