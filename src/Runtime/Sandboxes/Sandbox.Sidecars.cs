namespace TypedSandbox;

/// <summary>Sidecar containers of a running sandbox (Modal's <c>sb.experimentalSidecars</c>).</summary>
public sealed partial class Sandbox
{
    private SandboxSidecars? _sidecars;

    /// <summary>Creates, finds and lists the sandbox's sidecar containers: containers from other images that share its network.</summary>
    public SandboxSidecars Sidecars => _sidecars ??= new SandboxSidecars(this);
}
