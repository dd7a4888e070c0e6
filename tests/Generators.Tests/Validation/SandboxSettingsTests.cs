using TypedSandbox.Validation;

namespace TypedSandbox.Generators.Tests.Validation;

public class SandboxSettingsTests
{
    [Fact]
    public void CheckNetwork_rejects_block_network_with_an_allow_list_or_ports()
    {
        Assert.Null(SandboxSettings.CheckNetwork(blockNetwork: true, cidrCount: 0, tunnelPortCount: 0));
        Assert.Null(SandboxSettings.CheckNetwork(blockNetwork: false, cidrCount: 2, tunnelPortCount: 1));
        Assert.Contains("CIDR allow-list", SandboxSettings.CheckNetwork(true, 1, 0), StringComparison.Ordinal);
        Assert.Contains("tunnel ports", SandboxSettings.CheckNetwork(true, 0, 1), StringComparison.Ordinal);
    }

    [Fact]
    public void CheckIdleTimeout_allows_up_to_the_sandbox_timeout()
    {
        Assert.Null(SandboxSettings.CheckIdleTimeout(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10)));
        Assert.Equal(
            "Idle timeout '11m' is longer than the sandbox timeout '10m'; use at most '10m'",
            SandboxSettings.CheckIdleTimeout(TimeSpan.FromMinutes(11), TimeSpan.FromMinutes(10)));
    }

    [Fact]
    public void CheckCommandTimeout_allows_up_to_the_sandbox_timeout()
    {
        Assert.Null(SandboxSettings.CheckCommandTimeout(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5)));
        Assert.Equal(
            "Command timeout '1h' is longer than the sandbox timeout '5m'; use at most '5m'",
            SandboxSettings.CheckCommandTimeout(TimeSpan.FromHours(1), TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void Resources_must_not_be_negative()
    {
        Assert.Null(SandboxSettings.CheckCpu(0));
        Assert.Null(SandboxSettings.CheckCpu(0.5));
        Assert.NotNull(SandboxSettings.CheckCpu(-1));
        Assert.NotNull(SandboxSettings.CheckCpu(double.NaN));
        Assert.Null(SandboxSettings.CheckMemoryMb(512));
        Assert.Equal("Memory -1 MiB is negative; use a number of MiB such as 512, or 0 for the default", SandboxSettings.CheckMemoryMb(-1));
        Assert.Equal("Memory 2 MiB is below the 4 MiB minimum; use a number of MiB such as 512, or 0 for the default", SandboxSettings.CheckMemoryMb(2));
        Assert.Null(SandboxSettings.CheckMemoryMb(Limits.MinMemoryMb));
        Assert.Equal("Cpu 0.005 is below the minimum of 0.01 CPU; use 0.01 or more, or 0 for the default", SandboxSettings.CheckCpu(0.005));
        Assert.Null(SandboxSettings.CheckCpu(Limits.MinCpu));
        Assert.Null(SandboxSettings.CheckPort(8080));
        Assert.NotNull(SandboxSettings.CheckPort(0));
        Assert.NotNull(SandboxSettings.CheckPort(65536));
    }

    [Fact]
    public void IndexOfDuplicate_finds_the_second_occurrence()
    {
        Assert.Equal(2, SandboxSettings.IndexOfDuplicate(["a", "b", "a"]));
        Assert.Equal(-1, SandboxSettings.IndexOfDuplicate(["a", "A"]));
    }
}
