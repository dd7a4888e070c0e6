using TypedSandbox.Server.Engine;

namespace TypedSandbox.Server.Sandboxes;

/// <summary>Modal's <c>runtime</c> names as this engine reads them.</summary>
internal static class SandboxRuntimes
{
    /// <summary>The name of gVisor in Modal's API.</summary>
    public const string Gvisor = "gvisor";

    /// <summary>Reads a requested runtime; unset or empty is the engine's default.</summary>
    /// <exception cref="EngineException">An unknown name, or "vm" (INVALID_ARGUMENT, naming what this engine offers).</exception>
    public static SandboxRuntime Parse(string? name) => name switch
    {
        null or "" => SandboxRuntime.Default,
        Gvisor => SandboxRuntime.Gvisor,
        _ => throw EngineException.Invalid(
            $"Runtime '{name}' is not available on this engine; it offers its default OCI runtime (runc-compatible: crun, runc or runsc, " +
            $"leave runtime unset) and \"{Gvisor}\" (runsc), not virtual machines."),
    };
}
