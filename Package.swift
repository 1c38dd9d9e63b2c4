// swift-tools-version:6.0
// TinyRecursion: Tiny Recursion Models in pure Swift. No package dependencies.
//
// Layering (targets only point down):
//   CTRMKernels (C micro-kernels, runtime ISA dispatch)
//     -> TRMKernels (GEMM driver, row/elementwise kernels, reference twins)
//       -> TRMTensor (Tensor, buffer pool, reverse-mode tape, differentiable ops)
//         -> TRMModel (layers, TRM, baseline, checkpoints)
//           -> TRMTraining (losses, AdamW, EMA, trainer, evaluator)
//   TRMPuzzles (sudoku, maze, arithmetic; depends on nothing)
//   TRMArguments (the command-line parser of trm and the benchmarks; depends on nothing)
//   TRMDistributed (MPI loaded at run time: data-parallel training) -> TRMTraining
//   TinyRecursion (umbrella: re-exports the component API, task glue, Reasoner facade, training setup)
//     -> TRMCommandLine -> trm (CLI); KernelBench, TrainBench (+ BenchmarkArguments: their option checking)
import PackageDescription

let package = Package(
  name: "TinyRecursion",
  // Linux (tested in CI) and macOS ≥ 10.15 (Dispatch, Foundation's FileHandle/JSON, SIMD types).
  // Platform-specific calls (signal handling) sit behind `#if canImport(Glibc) / Darwin`; the C
  // kernels pick AVX-512/AVX2 at run time and fall back to portable C elsewhere.
  platforms: [.macOS(.v10_15)],
  products: [
    .library(name: "TinyRecursion", targets: ["TinyRecursion"]),
    .executable(name: "trm", targets: ["trm"]),
  ],
  targets: [
    .target(name: "CTRMKernels", path: "Sources/CTRMKernels"),
    .target(name: "TRMRandom"),
    .target(name: "TRMKernels", dependencies: ["CTRMKernels", "TRMRandom"]),
    .target(name: "TRMTensor", dependencies: ["TRMKernels"]),
    .target(name: "TRMModel", dependencies: ["TRMTensor"]),
    .target(name: "TRMTraining", dependencies: ["TRMModel"]),
    .target(name: "TRMPuzzles", dependencies: ["TRMRandom"]),
    .target(name: "TinyRecursion", dependencies: ["TRMTraining", "TRMPuzzles"]),
    .target(name: "TRMDistributed", dependencies: ["TRMTraining"]),
    .target(name: "TRMArguments"),
    .target(name: "TRMCommandLine", dependencies: ["TinyRecursion", "TRMDistributed", "TRMArguments"]),
    .executableTarget(name: "trm", dependencies: ["TRMCommandLine"]),
    .target(name: "BenchmarkArguments", dependencies: ["TRMArguments"], path: "Benchmarks/BenchmarkArguments"),
    .executableTarget(
      name: "KernelBench", dependencies: ["TRMKernels", "TRMRandom", "BenchmarkArguments"], path: "Benchmarks/KernelBench"),
    .executableTarget(
      name: "TrainBench", dependencies: ["TinyRecursion", "TRMTraining", "TRMTensor", "TRMKernels", "BenchmarkArguments"],
      path: "Benchmarks/TrainBench"),
    .target(
      name: "TRMFuzzing", dependencies: ["TinyRecursion", "TRMTraining", "TRMModel", "TRMTensor", "TRMRandom"],
      path: "Benchmarks/Fuzzing"),
    .executableTarget(name: "Fuzz", dependencies: ["TRMFuzzing", "BenchmarkArguments"], path: "Benchmarks/Fuzz"),
    .target(name: "TRMTestSupport", dependencies: ["TRMTensor", "TRMRandom"], path: "Tests/TRMTestSupport"),
    .testTarget(name: "TRMKernelsTests", dependencies: ["TRMKernels", "TRMRandom", "TRMTestSupport"]),
    .testTarget(name: "TRMTensorTests", dependencies: ["TRMTensor", "TRMTestSupport"]),
    .testTarget(name: "TRMModelTests", dependencies: ["TRMTraining", "TRMTestSupport"], exclude: ["Golden"]),
    .testTarget(name: "TRMPuzzlesTests", dependencies: ["TRMPuzzles"]),
    .testTarget(name: "PublicAPITests", dependencies: ["TinyRecursion"]),
    .testTarget(name: "FuzzTests", dependencies: ["TRMFuzzing"]),
    .testTarget(name: "CommandLineTests", dependencies: ["TRMCommandLine", "TRMModel", "TRMTraining"]),
  ],
  swiftLanguageModes: [.v5]
)
