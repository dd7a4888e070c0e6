namespace TypedSandbox.Server.Network;

/// <summary>How far the proxy got reading what a client sent first.</summary>
internal enum PrefaceStatus
{
    /// <summary>Not enough bytes yet to decide.</summary>
    NeedMore,

    /// <summary>Parsed; the name (if any) is known.</summary>
    Complete,

    /// <summary>Not the expected protocol, malformed, or past the proxy's bounds: the connection is refused.</summary>
    Invalid,
}

/// <summary>The name a client's first bytes carry (SNI or Host), or null when they carry none (a raw address).</summary>
internal readonly record struct Preface(PrefaceStatus Status, string? Host)
{
    public static Preface NeedMore => new(PrefaceStatus.NeedMore, null);

    public static Preface Invalid => new(PrefaceStatus.Invalid, null);
}
