using System.Collections.Concurrent;
using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>
/// The sandboxes of this engine's life, by id, by task id and by name: a name is held from create until the sandbox
/// finishes (or fails to start), so two sandboxes of one app never run under one name.
/// </summary>
internal sealed class SandboxRegistry
{
    private readonly ConcurrentDictionary<string, SandboxSession> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SandboxSession> _byTaskId = new(StringComparer.Ordinal);
    private readonly Lock _namesGate = new();
    private readonly Dictionary<(string AppId, string Name), SandboxSession> _byName = [];
    private readonly Dictionary<SandboxSession, string> _setNames = [];
    private readonly HashSet<SandboxSession> _finished = [];

    /// <summary>Every sandbox known in memory (running, or finished and not yet evicted).</summary>
    public ICollection<SandboxSession> All => _byId.Values;

    /// <summary>Finds a sandbox by id.</summary>
    public SandboxSession Get(string sandboxId) =>
        _byId.TryGetValue(sandboxId, out var session) ? session : throw EngineException.NotFound($"Sandbox '{sandboxId}' not found");

    /// <summary>Finds a sandbox by id, or null.</summary>
    public SandboxSession? TryGet(string sandboxId) => _byId.GetValueOrDefault(sandboxId);

    /// <summary>Finds a sandbox by the id of its task.</summary>
    public SandboxSession GetByTaskId(string taskId) =>
        _byTaskId.TryGetValue(taskId, out var session) ? session : throw EngineException.NotFound($"Task '{taskId}' not found");

    /// <summary>Finds a sandbox by the id of its task, or null.</summary>
    public SandboxSession? TryGetByTaskId(string taskId) => _byTaskId.GetValueOrDefault(taskId);

    /// <summary>The sandbox holding <paramref name="name"/> in the app (a running one), or null.</summary>
    public SandboxSession? FindByName(string appId, string name)
    {
        lock (_namesGate)
        {
            return _byName.GetValueOrDefault((appId, name));
        }
    }

    /// <summary>Holds the session's name (if it has one) for it.</summary>
    /// <exception cref="EngineException">Another sandbox of the app holds the name (AlreadyExists).</exception>
    public void ReserveName(SandboxSession session)
    {
        if (session.Spec.Name is not { } name)
        {
            return;
        }

        lock (_namesGate)
        {
            if (!_byName.TryAdd((session.Spec.AppId, name), session))
            {
                throw new EngineException(EngineErrorKind.AlreadyExists, $"Sandbox with name '{name}' already exists in this app.");
            }
        }
    }

    /// <summary>Names a running sandbox created without a name; the same rules hold as for a name given at create.</summary>
    /// <exception cref="EngineException">
    /// The sandbox already has a name or has finished (FailedPrecondition); another sandbox of the app holds the name (AlreadyExists).
    /// </exception>
    public void SetName(SandboxSession session, string name)
    {
        session.RequireNotFinished();
        lock (_namesGate)
        {
            // A sandbox whose finish already freed its names must not take one again.
            if (_finished.Contains(session))
            {
                throw EngineException.Precondition($"Sandbox {session.Id} has already finished.");
            }

            if ((session.Spec.Name ?? _setNames.GetValueOrDefault(session)) is { } current)
            {
                throw EngineException.Precondition($"Sandbox {session.Id} already has the name '{current}'; a name is set once.");
            }

            if (!_byName.TryAdd((session.Spec.AppId, name), session))
            {
                throw new EngineException(EngineErrorKind.AlreadyExists, $"Sandbox with name '{name}' already exists in this app.");
            }

            _setNames[session] = name;
        }
    }

    /// <summary>The session's name: given at create or set later; null when it has none.</summary>
    public string? NameOf(SandboxSession session)
    {
        lock (_namesGate)
        {
            return session.Spec.Name ?? _setNames.GetValueOrDefault(session);
        }
    }

    /// <summary>Frees the session's name, if the session holds it.</summary>
    public void ReleaseName(SandboxSession session)
    {
        lock (_namesGate)
        {
            _finished.Add(session);
            if ((session.Spec.Name ?? _setNames.GetValueOrDefault(session)) is not { } name)
            {
                return;
            }

            _setNames.Remove(session);
            if (_byName.TryGetValue((session.Spec.AppId, name), out var holder) && ReferenceEquals(holder, session))
            {
                _byName.Remove((session.Spec.AppId, name));
            }
        }
    }

    /// <summary>Makes a sandbox findable by id and task id (from its create, while it starts).</summary>
    public void Add(SandboxSession session)
    {
        _byId[session.Id] = session;
        _byTaskId[session.TaskId] = session;
    }

    /// <summary>Forgets a sandbox; false when it was already forgotten.</summary>
    public bool Remove(SandboxSession session)
    {
        if (!_byId.TryRemove(session.Id, out _))
        {
            return false;
        }

        _byTaskId.TryRemove(session.TaskId, out _);
        lock (_namesGate)
        {
            _finished.Remove(session);
        }

        return true;
    }
}
