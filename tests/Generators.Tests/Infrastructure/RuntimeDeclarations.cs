namespace TypedSandbox.Generators.Tests.Infrastructure;

/// <summary>
/// Declarations of the runtime types the generated code calls (src/Runtime and its Dsl/ bridge), compiled into test
/// compilations so generated code can be type-checked without the runtime. Signatures only: never executed.
/// </summary>
internal static class RuntimeDeclarations
{
    public const string Source = """
        #nullable enable
        namespace TypedSandbox
        {
            public sealed class SandboxClient
            {
                public static SandboxClient? Default { get; set; }
            }

            public sealed class Sandbox : global::System.IAsyncDisposable
            {
                public string SandboxId => throw new global::System.NotSupportedException();
                public global::System.Threading.Tasks.ValueTask DisposeAsync() => throw new global::System.NotSupportedException();
            }

            public sealed class ContainerProcess
            {
            }

            public sealed class ExecResult
            {
                public int ExitCode => throw new global::System.NotSupportedException();
                public string Stdout => throw new global::System.NotSupportedException();
                public string Stderr => throw new global::System.NotSupportedException();
            }
        }

        namespace TypedSandbox.Dsl
        {
            using System;
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;

            public sealed class SandboxDefinition
            {
                public string? App { get; init; }
                public string? Name { get; init; }
                public string? Timeout { get; init; }
                public string? IdleTimeout { get; init; }
                public string? Workdir { get; init; }
                public double Cpu { get; init; }
                public int MemoryMb { get; init; }
                public bool BlockNetwork { get; init; }
                public IReadOnlyList<string> CidrAllowlist { get; init; } = [];
                public IReadOnlyList<int> EncryptedPorts { get; init; } = [];
                public IReadOnlyList<int> UnencryptedPorts { get; init; } = [];
                public bool Verbose { get; init; }
                public ImageDefinition? Image { get; init; }
                public IReadOnlyList<VolumeMount> Volumes { get; init; } = [];
                public IReadOnlyList<string> Secrets { get; init; } = [];
                public IReadOnlyList<EnvironmentSecret> SecretsFromEnvironment { get; init; } = [];
                public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
                public IReadOnlyList<string> Entrypoint { get; init; } = [];
                public Task<Sandbox> CreateSandboxAsync(SandboxClient? client, CancellationToken cancellationToken) => throw new NotSupportedException();
                public Task<Sandbox> FromIdAsync(string sandboxId, SandboxClient? client, CancellationToken cancellationToken) => throw new NotSupportedException();
                public Task<Sandbox> FromNameAsync(string name, SandboxClient? client, CancellationToken cancellationToken) => throw new NotSupportedException();
                public IAsyncEnumerable<Sandbox> ListAsync(IReadOnlyDictionary<string, string>? tags, SandboxClient? client, CancellationToken cancellationToken) => throw new NotSupportedException();
                public ValueTask TerminateAsync(Sandbox sandbox) => throw new NotSupportedException();
            }

            public sealed class ImageDefinition
            {
                public string? Reference { get; init; }
                public string? DebianSuite { get; init; }
                public IReadOnlyList<string> Env { get; init; } = [];
                public IReadOnlyList<string> AptInstall { get; init; } = [];
                public IReadOnlyList<string> PipInstall { get; init; } = [];
                public IReadOnlyList<string> RunCommands { get; init; } = [];
                public string? Workdir { get; init; }
            }

            public sealed record VolumeMount(string MountPath, string VolumeName)
            {
                public bool ReadOnly { get; init; }
            }

            public sealed record EnvironmentSecret(IReadOnlyList<string> Variables)
            {
                public bool Required { get; init; } = true;
            }

            public sealed class CommandDefinition
            {
                public CommandDefinition(IReadOnlyList<string> args, IReadOnlyList<string> parameterNames) => throw new NotSupportedException();
                public string? Timeout { get; init; }
                public string? Workdir { get; init; }
                public Task<ExecResult> RunAsync(Sandbox sandbox, object?[] values, CancellationToken cancellationToken) => throw new NotSupportedException();
                public Task<ContainerProcess> StartAsync(Sandbox sandbox, object?[] values, CancellationToken cancellationToken) => throw new NotSupportedException();
                public Task<int> RunForExitCodeAsync(Sandbox sandbox, object?[] values, CancellationToken cancellationToken) => throw new NotSupportedException();
            }
        }
        """;
}
