namespace TypedSandbox.Server.Isolation;

internal static partial class IsolationLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Cleanup step '{Step}' failed: {Error}")]
    public static partial void CleanupFailed(ILogger logger, string step, string error);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Warning, Message = "The network of adopted sandbox namespace {Namespace} did not come back: {Error}")]
    public static partial void AdoptedNetworkFailed(ILogger logger, string @namespace, string error);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Debug, Message = "The OCI runtime {Binary} runs from a sealed in-memory copy ({Path}): it skips re-executing itself on every start")]
    public static partial void SealedRuntimeCopyMade(ILogger logger, string binary, string path);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Information, Message = "No sealed in-memory copy of the OCI runtime {Binary} ({Error}): it runs from its file and re-executes itself on every start")]
    public static partial void SealedRuntimeCopyFailed(ILogger logger, string binary, string error);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "[{ContainerId}] runtime: {Line}")]
    public static partial void RuntimeOutput(ILogger logger, string containerId, string line);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Sandbox {ContainerId} started with {Runtime} in {Milliseconds} ms ({Phases})")]
    public static partial void Started(ILogger logger, string containerId, string runtime, long milliseconds, StartPhases phases);

    [LoggerMessage(EventId = 1019, Level = LogLevel.Debug, Message = "Made an open network ahead in {Milliseconds} ms ({Phases})")]
    public static partial void NetworkMadeAhead(ILogger logger, long milliseconds, StartPhases phases);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "Moving a sandbox's helper into {CgroupProcs} failed: {Error}")]
    public static partial void HelperCgroupJoinFailed(ILogger logger, string cgroupProcs, string error);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Sandbox {ContainerId} ended: {Exit}")]
    public static partial void Ended(ILogger logger, string containerId, Exec.ProcessExit exit);

    [LoggerMessage(EventId = 1051, Level = LogLevel.Information, Message = "Removed {Count} output spill files a previous engine left")]
    public static partial void SpillFilesRemoved(ILogger logger, int count);

    [LoggerMessage(EventId = 1017, Level = LogLevel.Information, Message = "All sandboxes (cgroup {Parent}) hold at most {Pids} tasks and {MemoryMiB} MiB together")]
    public static partial void SandboxTotalsSet(ILogger logger, string parent, long pids, long memoryMiB);

    [LoggerMessage(EventId = 1018, Level = LogLevel.Warning, Message = "Bounding all sandboxes together (cgroup {Parent}) failed; each keeps its own limits: {Error}")]
    public static partial void SandboxTotalsFailed(ILogger logger, string parent, string error);
}
