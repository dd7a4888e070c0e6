using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Tests.Isolation;

public sealed class HostCheckTests
{
    [SkippableFact]
    public void A_missing_runtime_and_agent_are_named_with_their_fix()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the host check is about Linux hosts");
        var options = new ContainerRuntimeOptions { Runtime = "/nonexistent/crun", AgentPath = "/nonexistent/typedsandbox-agent" };

        var problems = HostCheck.FindProblems(options);

        Assert.Contains(problems, p => p.Contains("/nonexistent/crun", StringComparison.Ordinal) && p.Contains("apt-get install crun", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("/nonexistent/typedsandbox-agent", StringComparison.Ordinal) && p.Contains("AgentPath", StringComparison.Ordinal));
        var error = Assert.Throws<HostNotReadyException>(() => ContainerRuntimeFactory.Create(options));
        Assert.Equal(problems, error.Problems);
    }

    [Fact]
    public void An_unknown_runtime_is_rejected_by_name()
    {
        var problems = HostCheck.FindProblems(new ContainerRuntimeOptions { Runtime = "docker" });

        Assert.Contains(problems, p => p.Contains("'docker'", StringComparison.Ordinal) && p.Contains("crun, runc or runsc", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void This_host_is_ready_for_crun()
    {
        Skip.If(Environment.UserName != "root", "sandboxes need root");

        Assert.Empty(HostCheck.FindProblems(new ContainerRuntimeOptions()));
    }
}
