// `Arguments` and `UsageError` live in TRMArguments (shared with the benchmarks); callers of
// TRMCommandLine keep seeing `UsageError` here.
@_exported import TRMArguments
