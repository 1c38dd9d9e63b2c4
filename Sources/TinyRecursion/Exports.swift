// The umbrella's public surface. `import TinyRecursion` gives a caller the puzzles and the types
// the component API speaks in, and nothing else: tensors, layers, kernels and free functions
// (`Tensor`, `Linear`, `argmax`…) stay in their modules, for callers that import those by name.
@_exported import TRMPuzzles
@_exported import struct TRMRandom.SplitMix64
@_exported import struct TRMModel.ModelConfig
@_exported import struct TRMModel.RecursionBudget
@_exported import enum TRMModel.TokenMixer
@_exported import enum TRMModel.ModelKind
@_exported import enum TRMModel.StopRule
@_exported import enum TRMModel.ModelError
@_exported import class TRMModel.RecursiveModel
@_exported import enum TRMKernels.CrossEntropyKind
@_exported import struct TRMTraining.Example
@_exported import struct TRMTraining.TrainingConfig
@_exported import enum TRMTraining.MazeLabels
@_exported import struct TRMTraining.LearningRateSchedule
@_exported import struct TRMTraining.StepMetrics
@_exported import struct TRMTraining.TrainerState
@_exported import class TRMTraining.Trainer
@_exported import enum TRMTraining.Checkpoint
@_exported import struct TRMTraining.LoadedCheckpoint
@_exported import enum TRMTraining.Evaluator
@_exported import struct TRMTraining.Prediction
@_exported import struct TRMTraining.EvaluationResult
@_exported import protocol TRMTraining.Communicator
