namespace TypedSandbox.Server.Sandboxes;

/// <summary>What the lifecycle of named objects (volumes, environments) asks of the sandbox core.</summary>
internal sealed partial class SandboxManager
{
    /// <summary>The sandboxes that have not finished yet.</summary>
    public IReadOnlyList<SandboxSession> Running() => [.. _registry.All.Where(s => s.Result is null)];
}
