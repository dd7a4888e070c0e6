using System.Security.Cryptography;
using System.Text;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Tests.Isolation;

namespace TypedSandbox.Server.Tests.Exec;

[Collection(SandboxTests.Name)]
public sealed class AgentExecTests(SandboxHost host)
{
    [SkippableFact]
    public async Task Echo_stdout_and_stderr_arrive_byte_exact()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        await using var sandbox = await host.Runtime().StartAsync(host.Spec(), CancellationToken.None);

        var result = await Run.ShAsync(sandbox, "printf 'hello\\nworld'; printf 'err\\0bytes' >&2");

        Assert.Equal(0, result.Exit.ExitCode);
        Assert.Equal("hello\nworld"u8.ToArray(), result.Stdout);
        Assert.Equal("err\0bytes"u8.ToArray(), result.Stderr);
    }
}
