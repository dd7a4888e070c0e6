using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Sidecars;

/// <summary>
/// The sidecars of one sandbox: at most <see cref="SidecarSpec.MaxRunningPerSandbox"/> running (or starting), names
/// unique among those, and the last <see cref="FinishedKept"/> finished ones remembered for listing and waits. Closed
/// when the sandbox finishes: every sidecar is terminated with it and no new one starts.
/// </summary>
internal sealed class SidecarSet
{
    /// <summary>How many finished sidecars stay known (oldest forgotten first).</summary>
    public const int FinishedKept = 16;

    private readonly Lock _gate = new();
    private readonly List<Sidecar> _sidecars = [];
    private readonly HashSet<string> _starting = new(StringComparer.Ordinal);
    private bool _closed;

    /// <summary>True while no sidecar was ever started or reserved (a sandbox with sidecars is not handed over).</summary>
    public bool IsEmpty
    {
        get { lock (_gate) { return _starting.Count == 0 && _sidecars.Count == 0; } }
    }

    /// <summary>Holds <paramref name="name"/> for a sidecar about to start; release it with <see cref="Add"/> or <see cref="Release"/>.</summary>
    /// <exception cref="EngineException">The sandbox finished, the name is taken, or the sandbox runs its maximum of sidecars.</exception>
    public void Reserve(string sandboxId, string name)
    {
        lock (_gate)
        {
            if (_closed)
            {
                throw EngineException.Precondition($"Sandbox {sandboxId} has already finished; it takes no sidecars.");
            }

            if (_starting.Contains(name) || _sidecars.Any(s => s.Name == name && s.Result is null))
            {
                throw new EngineException(EngineErrorKind.AlreadyExists, $"Sandbox {sandboxId} already runs a sidecar named '{name}'.");
            }

            if (_starting.Count + _sidecars.Count(s => s.Result is null) >= SidecarSpec.MaxRunningPerSandbox)
            {
                throw new EngineException(EngineErrorKind.ResourceExhausted,
                    $"Sandbox {sandboxId} already runs {SidecarSpec.MaxRunningPerSandbox} sidecars, the most one sandbox may run; terminate one first.");
            }

            _starting.Add(name);
        }
    }

    /// <summary>Gives up a name held by <see cref="Reserve"/> (the sidecar did not start).</summary>
    public void Release(string name)
    {
        lock (_gate)
        {
            _starting.Remove(name);
        }
    }

    /// <summary>Adds a started sidecar under its reserved name; false when the sandbox finished meanwhile (the caller terminates it).</summary>
    public bool Add(Sidecar sidecar)
    {
        lock (_gate)
        {
            _starting.Remove(sidecar.Name);
            if (_closed)
            {
                return false;
            }

            _sidecars.RemoveAll(s => s.Name == sidecar.Name && s.Result is not null);
            var finished = _sidecars.Where(s => s.Result is not null).ToList();
            foreach (var old in finished.Take(Math.Max(0, finished.Count - FinishedKept + 1)))
            {
                _sidecars.Remove(old);
            }

            _sidecars.Add(sidecar);
            return true;
        }
    }

    /// <summary>The sidecars in creation order: running ones, and finished ones when asked.</summary>
    public IReadOnlyList<Sidecar> List(bool includeFinished)
    {
        lock (_gate)
        {
            return [.. _sidecars.Where(s => includeFinished || s.Result is null)];
        }
    }

    /// <summary>The newest sidecar named <paramref name="name"/> (a running one first).</summary>
    /// <exception cref="EngineException">No such sidecar (NOT_FOUND); a finished one counts only when asked.</exception>
    public Sidecar GetByName(string sandboxId, string name, bool includeFinished)
    {
        var all = List(includeFinished);
        return all.LastOrDefault(s => s.Name == name && s.Result is null) ?? all.LastOrDefault(s => s.Name == name)
            ?? throw EngineException.NotFound($"Sandbox {sandboxId} has no {(includeFinished ? "" : "running ")}sidecar named '{name}'.");
    }

    /// <summary>The sidecar with container id <paramref name="containerId"/>, running or finished.</summary>
    /// <exception cref="EngineException">No such sidecar (NOT_FOUND).</exception>
    public Sidecar GetById(string sandboxId, string containerId) =>
        List(includeFinished: true).FirstOrDefault(s => s.Id == containerId)
        ?? throw EngineException.NotFound($"Sandbox {sandboxId} has no container '{containerId}'.");

    /// <summary>Closes the set and terminates every running sidecar (the sandbox finished).</summary>
    public async Task TerminateAllAsync()
    {
        List<Sidecar> running;
        lock (_gate)
        {
            _closed = true;
            running = [.. _sidecars.Where(s => s.Result is null)];
        }

        await Task.WhenAll(running.Select(s => s.TerminateAsync(CancellationToken.None))).ConfigureAwait(false);
    }
}
