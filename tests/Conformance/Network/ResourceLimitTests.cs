namespace TypedSandbox.Conformance.Tests.Network;

/// <summary>cpu / memoryMiB (and their explicit limits) through Modal's JS SDK become cgroup limits of the sandbox.</summary>
[Collection(EngineTests.Name)]
public sealed class ResourceLimitTests(EngineFixture fixture)
{
    [Fact]
    public async Task Memory_and_cpu_requests_are_enforced_and_a_memory_hog_is_killed()
    {
        var result = await NetworkScenarios.RunAsync(fixture, "resources");

        Assert.Equal(("134217728\n", "", 0), NetworkScenarios.Exec(result.GetProperty("memoryLimit")));
        Assert.Equal(("50000\n100000\n", "", 0), NetworkScenarios.Exec(result.GetProperty("cpuQuota")));
        // 256 MiB under a 128 MiB limit: the OOM killer ends the process (SIGKILL, 128 + 9) ...
        Assert.Equal(137, NetworkScenarios.Exec(result.GetProperty("hog")).Code);
        // ... and only it: the sandbox keeps running and smaller work still fits.
        Assert.Equal(("fits\n", "", 0), NetworkScenarios.Exec(result.GetProperty("small")));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, result.GetProperty("pollAfter").ValueKind);
    }

    [Fact]
    public async Task Requests_below_the_kernel_minimums_are_refused()
    {
        var result = await NetworkScenarios.RunAsync(fixture, "resource-bad-input");

        var memory = NetworkScenarios.Error(result, "tinyMemory");
        Assert.Contains("INVALID_ARGUMENT", memory, StringComparison.Ordinal);
        Assert.Contains("Memory 2 MiB is below the 4 MiB minimum", memory, StringComparison.Ordinal);
        var cpu = NetworkScenarios.Error(result, "tinyCpu");
        Assert.Contains("INVALID_ARGUMENT", cpu, StringComparison.Ordinal);
        Assert.Contains("below the minimum of 0.01 CPU", cpu, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explicit_limits_above_the_requests_are_the_enforced_ones()
    {
        var result = await NetworkScenarios.RunAsync(fixture, "resource-limits");

        Assert.Equal(("201326592\n", "", 0), NetworkScenarios.Exec(result.GetProperty("memoryLimit")));
        Assert.Equal(("150000\n", "", 0), NetworkScenarios.Exec(result.GetProperty("cpuQuota")));
    }
}
