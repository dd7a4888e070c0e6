namespace TypedSandbox.Server.Isolation;

/// <summary>
/// The unprivileged host uid/gid range every sandbox's user namespace maps onto: uid (and gid) <c>n</c> inside a
/// sandbox is <c>HostId + n</c> on the host, for <c>n</c> below <see cref="Size"/>. One range is shared by all
/// sandboxes (as Docker's <c>userns-remap</c>), so image layers are unpacked once, already owned by the range.
/// </summary>
/// <param name="HostId">The host uid and gid that root inside a sandbox is (never 0).</param>
/// <param name="Size">How many ids the range holds (65536 covers every id an image normally uses).</param>
public sealed record SandboxIdRange(int HostId, int Size)
{
    /// <summary>The size the engine asks for: ids 0–65535 inside, as Docker and podman map.</summary>
    public const int DefaultSize = 65536;

    /// <summary>The host uid/gid of <paramref name="containerId"/> inside a sandbox.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is outside the range (the caller says why that matters).</exception>
    public int ToHost(long containerId)
    {
        if (containerId < 0 || containerId >= Size)
        {
            throw new ArgumentOutOfRangeException(nameof(containerId), containerId, $"Id {containerId} is outside the sandboxes' id range 0-{Size - 1}.");
        }

        return checked(HostId + (int)containerId);
    }

    /// <summary>True when the host id <paramref name="hostId"/> belongs to the range.</summary>
    public bool Contains(long hostId) => hostId >= HostId && hostId < (long)HostId + Size;

    /// <summary>Returns a message naming what is wrong, or null.</summary>
    public string? Validate()
    {
        if (HostId <= 0)
        {
            return $"The sandboxes' host id range must start above 0 (it starts at {HostId}): root inside would be root on the host.";
        }

        if (Size < 1 || (long)HostId + Size > uint.MaxValue)
        {
            return $"The sandboxes' host id range {HostId}+{Size} is empty or too large.";
        }

        return null;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{HostId}-{(long)HostId + Size - 1}";
}
