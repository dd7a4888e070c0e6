using Microsoft.Extensions.DependencyInjection;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Security.Tests;

/// <summary>
/// The engine runs crun from a sealed in-memory copy (so crun does not copy itself on every start). The copy must give
/// what crun's own copy gives against CVE-2019-5736: a process that reaches the runtime's binary cannot change it.
/// </summary>
[Collection(CrunAttacks.Name)]
public sealed class RuntimeBinaryTests(SecurityEngine engine)
{
    [Fact]
    public async Task The_runtime_binary_sandboxes_start_with_refuses_every_write()
    {
        await using var sandbox = await engine.CreateSandboxAsync();
        Assert.Equal(0, (await sandbox.RunAsync(["true"])).ExitCode);
        var runtime = ((RuntimeChoice)engine.Engine.Host.Services.GetRequiredService<IContainerRuntime>()).Default.RuntimeBinary;
        var installed = await File.ReadAllBytesAsync(HostCheck.FindExecutable("crun")!);

        Assert.StartsWith("/proc/self/fd/", runtime, StringComparison.Ordinal);
        Assert.Equal(SealedRuntimeBinary.Seals, SealedRuntimeBinary.SealsOf(runtime));
        // What a container process that got hold of the runtime's /proc/<pid>/exe would try: write over the binary,
        // truncate it, append to it. Root on the host is refused the same.
        using (var writable = File.OpenHandle(runtime, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            Assert.Throws<UnauthorizedAccessException>(() => RandomAccess.Write(writable, "#!/bin/sh\nid\n"u8, fileOffset: 0));
            Assert.Throws<UnauthorizedAccessException>(() => RandomAccess.Write(writable, "x"u8, fileOffset: installed.Length));
        }
        Assert.Throws<UnauthorizedAccessException>(() => File.OpenHandle(runtime, FileMode.Truncate, FileAccess.Write, FileShare.ReadWrite).Dispose());
        Assert.Equal(installed, await File.ReadAllBytesAsync(runtime));
    }
}
