// Golden first examples of the generators for fixed seeds: a toolchain or code change that
// alters generated data fails the test instead of silently changing the shipped suites.
let GOLDEN_SUDOKU = "...3..24.2..13..,2413312442311342"
let GOLDEN_MAZE = "########...#.####.#.##G#.#S##.#.#.##.....########,########...#.####.#.##G#.#S##o#.#o##ooooo########"
let GOLDEN_ADD = "1217+6828=8045"
