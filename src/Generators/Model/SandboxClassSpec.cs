namespace TypedSandbox.Generators.Model
{
    /// <summary>Everything the emitter needs about one [Sandbox] class, read from its attributes.</summary>
    internal sealed record SandboxClassSpec(
        string? Namespace,
        string TypeName,
        bool IsPublic,
        SandboxDefinitionSpec Definition)
    {
        /// <summary>The fully qualified name commands are grouped by ("global::Demo.TestRunner").</summary>
        public string FullyQualifiedName => Namespace is null ? "global::" + TypeName : $"global::{Namespace}.{TypeName}";

        /// <summary>The generated file's hint name: "Namespace.Type.g.cs".</summary>
        public string HintName => Namespace is null ? $"{TypeName}.g.cs" : $"{Namespace}.{TypeName}.g.cs";
    }

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
}
