using System.Collections.Generic;

namespace TypedSandbox.Validation;

/// <summary>
/// The settings of one sandbox as the rule book reads them, filled from a <c>[Sandbox]</c> class's attributes, the
/// DSL's definition, the client's create options or the engine's request. Settings a side does not have stay empty.
/// </summary>
internal sealed class SandboxDeclaration
{
    private static readonly IReadOnlyList<int> NoPorts = System.Array.Empty<int>();
    private static readonly IReadOnlyList<string?> NoStrings = System.Array.Empty<string?>();

    /// <summary>The app's name; not checked when <see langword="null"/>.</summary>
    public string? App { get; set; }

    /// <summary>The sandbox's name; not checked when <see langword="null"/>.</summary>
    public string? Name { get; set; }

    /// <summary>The sandbox's lifetime; <see cref="Limits.DefaultSandboxTimeout"/> when not set.</summary>
    public TimeoutSetting Timeout { get; set; }

    /// <summary>The idle timeout, at most the sandbox's lifetime.</summary>
    public TimeoutSetting IdleTimeout { get; set; }

    /// <summary>The working directory; not checked when <see langword="null"/>.</summary>
    public string? Workdir { get; set; }

    /// <summary>CPU cores; 0 for the default.</summary>
    public double Cpu { get; set; }

    /// <summary>Memory in MiB; 0 for the default.</summary>
    public long MemoryMb { get; set; }

    /// <summary>Ports behind TLS tunnels.</summary>
    public IReadOnlyList<int> EncryptedPorts { get; set; } = NoPorts;

    /// <summary>Ports behind plain TCP tunnels.</summary>
    public IReadOnlyList<int> UnencryptedPorts { get; set; } = NoPorts;

    /// <summary>Ports behind HTTP/2 tunnels.</summary>
    public IReadOnlyList<int> H2Ports { get; set; } = NoPorts;

    /// <summary>Whether all network access is blocked.</summary>
    public bool BlockNetwork { get; set; }

    /// <summary>CIDR ranges the sandbox may reach.</summary>
    public IReadOnlyList<string?> CidrAllowlist { get; set; } = NoStrings;

    /// <summary>Tags, in declaration order (a key may repeat in attributes, never in a dictionary).</summary>
    public IReadOnlyList<KeyValuePair<string?, string?>> Tags { get; set; } = System.Array.Empty<KeyValuePair<string?, string?>>();

    /// <summary>Volumes, in declaration order.</summary>
    public IReadOnlyList<VolumeDeclaration> Volumes { get; set; } = System.Array.Empty<VolumeDeclaration>();

    /// <summary>Names of secrets.</summary>
    public IReadOnlyList<string?> Secrets { get; set; } = NoStrings;

    /// <summary>Host environment variables copied as secrets, one list per declaration.</summary>
    public IReadOnlyList<IReadOnlyList<string?>> SecretsFromEnvironment { get; set; } = System.Array.Empty<IReadOnlyList<string?>>();

    /// <summary>Environment variable keys.</summary>
    public IReadOnlyList<string?> EnvKeys { get; set; } = NoStrings;

    /// <summary>The entrypoint; none when empty.</summary>
    public IReadOnlyList<string?> Entrypoint { get; set; } = NoStrings;
}

/// <summary>A volume as the rule book reads it: where it is mounted and, where the side knows it, its name.</summary>
internal readonly struct VolumeDeclaration
{
    /// <summary>A volume known by its mount path only (the engine's request names volumes by id).</summary>
    public VolumeDeclaration(string? mountPath)
    {
        MountPath = mountPath;
        Name = null;
        HasName = false;
    }

    /// <summary>A volume with its name.</summary>
    public VolumeDeclaration(string? mountPath, string? name)
    {
        MountPath = mountPath;
        Name = name;
        HasName = true;
    }

    /// <summary>The mount path.</summary>
    public string? MountPath { get; }

    /// <summary>The volume's name.</summary>
    public string? Name { get; }

    /// <summary>Whether <see cref="Name"/> is to be checked.</summary>
    public bool HasName { get; }
}
