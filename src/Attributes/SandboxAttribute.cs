using System;

namespace TypedSandbox;

/// <summary>
/// Declares a typed sandbox: the source generator turns a <c>partial</c> class marked with this attribute into a
/// handle with <c>CreateAsync</c>, <c>FromIdAsync</c>, <c>FromNameAsync</c>, <c>ListAsync</c> and one method per
/// <see cref="CommandAttribute"/>.
/// </summary>
/// <remarks>Durations are strings such as <c>"90s"</c>, <c>"10m"</c> or <c>"1h30m"</c>.</remarks>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class SandboxAttribute : Attribute
{
    /// <summary>The app the sandbox belongs to (created when missing). Letters, digits, '-', '_' and '.', at most 63 characters.</summary>
    public string? App { get; set; }

    /// <summary>A name unique among the app's running sandboxes, so <c>FromNameAsync</c> can find it again.</summary>
    public string? Name { get; set; }

    /// <summary>The sandbox's lifetime, for example <c>"10m"</c>; more than zero and at most 24 hours. Defaults to 5 minutes.</summary>
    public string? Timeout { get; set; }

    /// <summary>Terminates the sandbox after this long without a running command; at most <see cref="Timeout"/>.</summary>
    public string? IdleTimeout { get; set; }

    /// <summary>The absolute working directory of the entrypoint and of commands that set none.</summary>
    public string? Workdir { get; set; }

    /// <summary>CPU cores reserved for the sandbox (for example 0.5); 0 keeps the server's default.</summary>
    public double Cpu { get; set; }

    /// <summary>Memory reserved for the sandbox in MiB; 0 keeps the server's default.</summary>
    public int MemoryMb { get; set; }

    /// <summary>Blocks all network access except loopback. Cannot be combined with <see cref="CidrAllowlist"/> or ports.</summary>
    public bool BlockNetwork { get; set; }

    /// <summary>CIDR ranges the sandbox may reach (for example <c>"10.0.0.0/8"</c>); everything else is blocked.</summary>
    public string[]? CidrAllowlist { get; set; }

    /// <summary>Sandbox ports exposed through TLS tunnels.</summary>
    public int[]? EncryptedPorts { get; set; }

    /// <summary>Sandbox ports exposed through plain TCP tunnels.</summary>
    public int[]? UnencryptedPorts { get; set; }

    /// <summary>Logs the sandbox's lifecycle and commands through the client's logger.</summary>
    public bool Verbose { get; set; }

    /// <summary>
    /// A <c>System.Text.Json.Serialization.JsonSerializerContext</c> that knows the JSON result types of the
    /// commands (for trimming and AOT); without it, results use System.Text.Json's web defaults by reflection.
    /// </summary>
    public Type? JsonContext { get; set; }
}
