namespace TypedSandbox.Server.Exec;

/// <summary>
/// How much unread output one stream (an exec's or the entrypoint's stdout or stderr, a tunnel connection's bytes) may
/// hold in the engine. A process whose client does not read blocks on write inside the sandbox once its window is full.
/// </summary>
public sealed record OutputBounds
{
    /// <summary>Default bytes kept in memory per stream before it spills to a file.</summary>
    public const int DefaultMemoryBytes = 256 * 1024;

    /// <summary>Default size of one stream's spill file.</summary>
    public const long DefaultDiskBytes = 64L * 1024 * 1024;

    /// <summary>Default total of all spill files of the engine.</summary>
    public const long DefaultSpillBudgetBytes = 1024L * 1024 * 1024;

    private const long MaxRewindBytes = 4L * 1024 * 1024;

    /// <summary>The defaults: 256 KiB in memory, then a 64 MiB spill file per stream, 1 GiB of spill files in all.</summary>
    public static OutputBounds Default { get; } = new();

    /// <summary>Bytes of one stream kept in memory; past them the stream spills to a file (if the budget allows).</summary>
    public int MemoryBytes { get; init; } = DefaultMemoryBytes;

    /// <summary>Size of one stream's spill file (a ring): its bound on disk. 0 = never spill.</summary>
    public long DiskBytes { get; init; } = DefaultDiskBytes;

    /// <summary>All spill files of the engine together; a stream that finds no room stays in memory (and blocks sooner).</summary>
    public long SpillBudgetBytes { get; init; } = DefaultSpillBudgetBytes;

    /// <summary>Bytes already read that a stream keeps behind its furthest reader, so a reconnecting client resumes.</summary>
    public long RewindBytes(bool spilled) => Math.Min(MaxRewindBytes, Capacity(spilled) / 4);

    /// <summary>Unread bytes a stream may hold: its capacity less the rewind margin.</summary>
    public long Window(bool spilled) => Capacity(spilled) - RewindBytes(spilled);

    private long Capacity(bool spilled) => spilled && DiskBytes > MemoryBytes ? DiskBytes : MemoryBytes;

    /// <summary>Checks the sizes; throws <see cref="ArgumentOutOfRangeException"/> naming the bad one.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MemoryBytes, 4096, nameof(MemoryBytes));
        ArgumentOutOfRangeException.ThrowIfNegative(DiskBytes, nameof(DiskBytes));
        ArgumentOutOfRangeException.ThrowIfNegative(SpillBudgetBytes, nameof(SpillBudgetBytes));
    }
}
