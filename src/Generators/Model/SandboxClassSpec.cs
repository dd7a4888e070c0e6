namespace TypedSandbox.Generators.Model;

/// <summary>
/// Everything the emitter needs about one [Sandbox] class, read from its attributes. A class with
/// <paramref name="HasErrors"/> gets members whose bodies throw, so nothing but the TSB errors fails the build;
/// <paramref name="HasOwnDisposeAsync"/> means the user wrote DisposeAsync, so the generator adds none.
/// </summary>
internal sealed record SandboxClassSpec(
    string? Namespace,
    string TypeName,
    bool IsPublic,
    bool HasErrors,
    bool HasOwnDisposeAsync,
    SandboxDefinitionSpec Definition)
{
    /// <summary>[Sandbox(JsonContext)]: the fully qualified JsonSerializerContext for JSON results, if any.</summary>
    public string? JsonContext { get; init; }

    /// <summary>The fully qualified name commands are grouped by ("global::Demo.TestRunner").</summary>
    public string FullyQualifiedName => Namespace is null ? "global::" + TypeName : $"global::{Namespace}.{TypeName}";

    /// <summary>The generated file's hint name: "Namespace.Type.g.cs".</summary>
    public string HintName => Namespace is null ? $"{TypeName}.g.cs" : $"{Namespace}.{TypeName}.g.cs";

    /// <summary>
    /// A hint name unique even among names that differ only by case (hint names are compared ignoring case):
    /// "Namespace.Type.1a2b3c4d.g.cs", with a stable hash of the exact name.
    /// </summary>
    public string CaseSafeHintName
    {
        get
        {
            // FNV-1a over the exact name: stable across runs and platforms, unlike string.GetHashCode.
            var hash = 2166136261u;
            foreach (var c in FullyQualifiedName)
            {
                hash = unchecked((hash ^ c) * 16777619u);
            }

            var stem = HintName.Substring(0, HintName.Length - ".g.cs".Length);
            return stem + "." + hash.ToString("x8", System.Globalization.CultureInfo.InvariantCulture) + ".g.cs";
        }
    }
}

/// <summary>What parsing a [Sandbox] class gives: its spec when members can be generated, and its errors.</summary>
internal sealed record ClassParse(SandboxClassSpec? Spec, EquatableArray<DiagnosticInfo> Errors);

/// <summary>The values of [Sandbox], [SandboxImage], [Volume], [Secret], [SecretFromEnvironment], [Tag] and [Entrypoint].</summary>
internal sealed record SandboxDefinitionSpec(
    string? App,
    string? Name,
    string? Timeout,
    string? IdleTimeout,
    string? Workdir,
    double Cpu,
    int MemoryMb,
    bool BlockNetwork,
    EquatableArray<string> CidrAllowlist,
    EquatableArray<int> EncryptedPorts,
    EquatableArray<int> UnencryptedPorts,
    bool Verbose,
    ImageSpec? Image,
    EquatableArray<VolumeSpec> Volumes,
    EquatableArray<string> Secrets,
    EquatableArray<EnvironmentSecretSpec> SecretsFromEnvironment,
    EquatableArray<TagSpec> Tags,
    EquatableArray<string> Entrypoint);

/// <summary>[SandboxImage]: a registry reference or a Debian base, and build steps.</summary>
internal sealed record ImageSpec(
    string? Reference,
    string? DebianSuite,
    EquatableArray<string> Env,
    EquatableArray<string> AptInstall,
    EquatableArray<string> PipInstall,
    EquatableArray<string> RunCommands,
    string? Workdir);

/// <summary>[Volume].</summary>
internal sealed record VolumeSpec(string MountPath, string VolumeName, bool ReadOnly);

/// <summary>[SecretFromEnvironment].</summary>
internal sealed record EnvironmentSecretSpec(EquatableArray<string> Variables, bool Required);

/// <summary>[Tag].</summary>
internal sealed record TagSpec(string Key, string Value);
