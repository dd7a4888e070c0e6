namespace TypedSandbox;

/// <summary>The identity and placement options of <see cref="SandboxCreateOptions"/>.</summary>
public sealed partial record SandboxCreateOptions
{
    /// <summary>The probe <see cref="Sandbox.WaitUntilReadyAsync"/> waits for (Modal's <c>readinessProbe</c>).</summary>
    public ReadinessProbe? ReadinessProbe { get; init; }

    /// <summary>Modal's cloud provider (<c>aws</c>, <c>gcp</c>, <c>oci</c>, <c>auto</c>); the local engine accepts and ignores it.</summary>
    public string? Cloud { get; init; }

    /// <summary>Modal's regions (such as <c>us-east</c> or <c>us-east-1</c>); the local engine accepts and ignores them.</summary>
    public IReadOnlyList<string>? Regions { get; init; }

    /// <summary>
    /// Give the sandbox a signed OIDC identity token in <c>MODAL_IDENTITY_TOKEN</c> (Modal's <c>includeOidcIdentityToken</c>):
    /// a JWT naming the sandbox, its app and environment, which a service checks against the issuer's discovery document.
    /// </summary>
    public bool IncludeOidcIdentityToken { get; init; }
}

/// <summary>A readiness probe (Modal's <c>Probe</c>): a TCP port that must accept a connection, or a command that must exit 0.</summary>
public sealed record ReadinessProbe
{
    private ReadinessProbe(int? tcpPort, IReadOnlyList<string>? execArgs, TimeSpan interval)
    {
        TcpPort = tcpPort;
        ExecArgs = execArgs;
        Interval = interval;
    }

    /// <summary>The port probed on the sandbox's own loopback, or null for a command probe.</summary>
    public int? TcpPort { get; }

    /// <summary>The command probed, or null for a TCP probe.</summary>
    public IReadOnlyList<string>? ExecArgs { get; }

    /// <summary>How often the probe is tried.</summary>
    public TimeSpan Interval { get; }

    /// <summary>Ready once <paramref name="port"/> accepts a TCP connection inside the sandbox.</summary>
    /// <param name="port">The port, 1 to 65535.</param>
    /// <param name="interval">How often to try; 100 ms by default.</param>
    /// <exception cref="InvalidArgumentException">The port or the interval is out of range.</exception>
    public static ReadinessProbe Tcp(int port, TimeSpan? interval = null) =>
        port is < 1 or > 65535
            ? throw new InvalidArgumentException($"A TCP readiness probe needs a port in [1, 65535], got {port}")
            : new ReadinessProbe(port, null, CheckInterval(interval));

    /// <summary>Ready once <paramref name="args"/> exits with code 0 inside the sandbox.</summary>
    /// <param name="args">The command and its arguments (no shell).</param>
    /// <param name="interval">How often to try; 100 ms by default.</param>
    /// <exception cref="InvalidArgumentException">The command is empty or the interval is out of range.</exception>
    public static ReadinessProbe Exec(IReadOnlyList<string> args, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        return args.Count == 0
            ? throw new InvalidArgumentException("A command readiness probe needs at least one argument")
            : new ReadinessProbe(null, [.. args], CheckInterval(interval));
    }

    private static TimeSpan CheckInterval(TimeSpan? interval) =>
        interval is { } value && (value <= TimeSpan.Zero || value.TotalMilliseconds % 1 != 0)
            ? throw new InvalidArgumentException($"A readiness probe's interval must be a positive whole number of milliseconds, got {value}")
            : interval ?? TimeSpan.FromMilliseconds(100);
}

/// <summary>What <see cref="Sandbox.CreateConnectTokenAsync"/> returns: where to send HTTP requests and the token they carry.</summary>
/// <param name="Url">The sandbox port's address; send the token as <c>Authorization: Bearer</c> or the <c>_modal_connect_token</c> query parameter.</param>
/// <param name="Token">The token.</param>
public sealed record SandboxConnectCredentials(Uri Url, string Token);
