namespace TypedSandbox.Security.Tests;

/// <summary>Classic escape primitives from inside a sandbox: each must fail with a permission error.</summary>
[Collection(CrunAttacks.Name)]
public sealed class EscapePrimitiveTests(SecurityEngine engine)
{
    [Theory]
    [InlineData("mount -t tmpfs none /mnt")]
    [InlineData("echo 1 > /proc/sys/kernel/sysrq")]
    [InlineData("echo c > /proc/sysrq-trigger")]
    public async Task Escape_primitive_is_refused_under_crun(string attack)
    {
        await using var sandbox = await engine.CreateSandboxAsync();

        var result = await sandbox.RunAsync(["sh", "-c", attack]);

        Assert.NotEqual(0, result.ExitCode);
    }
}
