namespace TypedSandbox.Conformance.Tests;

/// <summary>The core exec path through Modal's JS SDK with sandboxes isolated by gVisor (runsc) instead of crun.</summary>
[Collection(RunscEngineTests.Name)]
public sealed class RunscTests(RunscEngineFixture fixture)
{
    [Fact]
    public async Task Exec_output_and_exit_code_under_gVisor()
    {
        var result = await fixture.RunScenarioAsync("exec-output");

        Assert.Equal("6f75740a01ff", result.GetProperty("stdout").GetString());
        Assert.Equal("err line\n", result.GetProperty("stderr").GetString());
        Assert.Equal(3, result.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Stdin_and_exit_codes_under_gVisor()
    {
        var stdin = await fixture.RunScenarioAsync("exec-stdin");
        var codes = await fixture.RunScenarioAsync("exec-exit-codes");

        Assert.Equal("first line\nsecond line\n", stdin.GetProperty("stdout").GetString());
        Assert.Equal(7, codes.GetProperty("seven").GetInt32());
    }
}
