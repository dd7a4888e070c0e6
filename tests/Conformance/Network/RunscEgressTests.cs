namespace TypedSandbox.Conformance.Tests.Network;

/// <summary>The egress engine on gVisor (runsc): its open sandboxes use runsc's host network in their namespace.</summary>
public sealed class RunscEgressEngineFixture : EgressEngineFixture
{
    /// <inheritdoc/>
    protected override string Runtime => "runsc";
}

/// <summary>Outbound domain allow-lists and header replacements with sandboxes isolated by gVisor (runsc).</summary>
public sealed class RunscEgressTests(RunscEgressEngineFixture fixture) : EgressConformance(fixture), IClassFixture<RunscEgressEngineFixture>;
