using System.Collections.Concurrent;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Exec;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>
/// The execs of one sandbox by the client's exec id, and when each finished: a finished exec's output stays readable
/// until the lifetime rules free it.
/// </summary>
internal sealed class SandboxExecs
{
    private readonly ConcurrentDictionary<string, SupervisedProcess> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _finishedAt = new(StringComparer.Ordinal);

    /// <summary>The execs held now (running, or finished and not yet freed).</summary>
    public IReadOnlyCollection<SupervisedProcess> Values => [.. _byId.Values];

    /// <summary>True while an exec with this id is held.</summary>
    public bool ContainsKey(string execId) => _byId.ContainsKey(execId);

    /// <summary>True while any exec is still running.</summary>
    public bool HasRunning => _byId.Values.Any(e => !e.Completion.IsCompleted);

    internal bool TryGet(string execId, out SupervisedProcess process) => _byId.TryGetValue(execId, out process!);

    internal SupervisedProcess Get(string sandboxId, string execId) =>
        _byId.TryGetValue(execId, out var process) ? process : throw EngineException.NotFound($"Exec '{execId}' not found in sandbox '{sandboxId}'");

    /// <summary>
    /// Holds <paramref name="process"/> under <paramref name="execId"/>; when it ends, <paramref name="ended"/> gives the
    /// time it is recorded as finished at. False when the id is already held (a retry won the race).
    /// </summary>
    internal bool TryAdd(string execId, SupervisedProcess process, Func<DateTimeOffset> ended)
    {
        if (!_byId.TryAdd(execId, process))
        {
            return false;
        }

        // Recorded before Completion completes, so whoever saw the exec end also sees it counted as finished.
        process.OnEnded(_ => _finishedAt[execId] = ended());
        return true;
    }

    /// <summary>The execs with when each finished (null while running), for a handover.</summary>
    internal IReadOnlyList<(string ExecId, SupervisedProcess Process, DateTimeOffset? FinishedAt)> Snapshot() =>
        [.. _byId.Select(e => (e.Key, e.Value, _finishedAt.TryGetValue(e.Key, out var at) ? at : (DateTimeOffset?)null))];

    /// <summary>Holds an adopted exec that had finished before the handover, finished at <paramref name="finishedAt"/>.</summary>
    internal void AddFinished(string execId, SupervisedProcess process, DateTimeOffset finishedAt)
    {
        if (_byId.TryAdd(execId, process))
        {
            _finishedAt[execId] = finishedAt;
        }
    }

    /// <summary>Frees the execs that finished before <paramref name="cutoff"/>, except those a client is streaming now.</summary>
    internal async Task EvictFinishedBeforeAsync(DateTimeOffset cutoff)
    {
        foreach (var (execId, finishedAt) in _finishedAt)
        {
            if (finishedAt <= cutoff && !(_byId.TryGetValue(execId, out var process) && IsBeingRead(process)))
            {
                await EvictAsync(execId).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Frees the output of finished execs while the finished ones hold more than <paramref name="bound"/> bytes; their
    /// exit statuses stay until <see cref="EvictFinishedBeforeAsync"/>. Never the output a client is streaming now.
    /// Output read to its end goes first (freeing it loses nothing a client still wants), then unread output, oldest
    /// first, once its exec finished before <paramref name="graceCutoff"/>: a client that started many execs at once
    /// attaches its readers after some have finished. Within the grace only memory past the bound is freed; bytes in
    /// spill files are bounded engine-wide by the spill budget meanwhile, and a stream that finds no room there blocks
    /// its writer instead of growing.
    /// </summary>
    internal async Task FreeOutputOverBoundAsync(long bound, DateTimeOffset graceCutoff)
    {
        long held = 0, inMemory = 0;
        foreach (var execId in _finishedAt.Keys)
        {
            if (_byId.TryGetValue(execId, out var process))
            {
                held += Footprint(process);
                inMemory += MemoryFootprint(process);
            }
        }

        if (held <= bound && inMemory <= bound)
        {
            return;
        }

        // ToArray is the dictionary's own atomic snapshot: LINQ over it would size an array from Count and then copy,
        // which throws when an exec finishes in between.
        var oldestFirst = _finishedAt.ToArray().OrderBy(e => e.Value).ToList();
        foreach (var readToEnd in new[] { true, false })
        {
            foreach (var (execId, finishedAt) in oldestFirst)
            {
                if (held <= bound && inMemory <= bound)
                {
                    return;
                }

                if (!_byId.TryGetValue(execId, out var process) || IsBeingRead(process) || Footprint(process) == 0 || ReadToEnd(process) != readToEnd)
                {
                    continue;
                }

                var memory = MemoryFootprint(process);
                if (!readToEnd && finishedAt > graceCutoff && (inMemory <= bound || memory == 0))
                {
                    continue;
                }

                held -= Footprint(process);
                inMemory -= memory;
                await process.FreeOutputAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Frees every exec.</summary>
    internal async Task DisposeAllAsync()
    {
        foreach (var execId in _byId.Keys)
        {
            await EvictAsync(execId).ConfigureAwait(false);
        }
    }

    private async Task EvictAsync(string execId)
    {
        _finishedAt.TryRemove(execId, out _);
        if (_byId.TryRemove(execId, out var process))
        {
            await process.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static bool IsBeingRead(SupervisedProcess process) => process.Stdout.IsBeingRead || process.Stderr.IsBeingRead;

    private static long Footprint(SupervisedProcess process) => process.Stdout.FootprintBytes + process.Stderr.FootprintBytes;

    private static bool ReadToEnd(SupervisedProcess process) => process.Stdout.IsReadToEnd && process.Stderr.IsReadToEnd;

    private static long MemoryFootprint(SupervisedProcess process) => process.Stdout.MemoryFootprintBytes + process.Stderr.MemoryFootprintBytes;
}
