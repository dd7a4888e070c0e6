using System.Threading.Tasks;
using TypedSandbox;

namespace Demo;

[Sandbox(App = "my-app", Timeout = "10m")]
[SandboxImage("python:3.13-slim")]
[Volume("/data", "my-volume")]
[Secret("my-secret")]
partial class TestRunner
{
    [Command("pytest", "-q", "{path}")]
    public partial Task<ExecResult> RunTestsAsync(string path);
}

public static class Usage
{
    public static async Task<int> RunAsync()
    {
        await using var r = await TestRunner.CreateAsync();
        var first = await r.RunTestsAsync("tests");
        var second = await TestRunner.CreateAsync().RunTestsAsync("tests");
        return first.ExitCode + second.ExitCode;
    }
}
