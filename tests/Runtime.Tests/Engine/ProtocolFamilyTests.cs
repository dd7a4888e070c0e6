using TypedSandbox.Sandboxes;

namespace TypedSandbox.Runtime.Tests.Engine;

/// <summary>Both protocol families behind <see cref="ISandboxProtocol"/>, each driven through every handle operation
/// against the real engine, and the client's one error path where a sandbox has gone away.</summary>
[Collection(RuntimeEngineGroup.Name)]
public sealed class ProtocolFamilyTests(EngineFixture fixture)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Each_family_serves_every_handle_operation(bool v2)
    {
        await using var client = EngineFixture.CreateClient(fixture.Engine.Host, new SandboxClientOptions { UseSandboxCreateV2 = v2 });
        var sandbox = await fixture.CreateSandboxAsync(new SandboxCreateOptions
        {
            Command = ["sh", "-c", "read line; echo \"got $line\"; echo err-side >&2; sleep 600"],
            Timeout = TimeSpan.FromMinutes(5),
        }, client);
        await using (sandbox)
        {
            // V2 ids carry 26 characters after "sb-", V1 ids 22: the id alone picks the family.
            Assert.Equal(v2 ? 29 : 25, sandbox.SandboxId.Length);
            Assert.IsType(v2 ? typeof(V2Protocol) : typeof(V1Protocol), sandbox.Connection.Protocol);

            await sandbox.Stdin.WriteAsync($"hello-{(v2 ? "v2" : "v1")}\n");
            Assert.Equal($"got hello-{(v2 ? "v2" : "v1")}", await sandbox.Stdout.ReadLineAsync());
            Assert.Equal("err-side", await sandbox.Stderr.ReadLineAsync());

            await sandbox.SetTagsAsync(new Dictionary<string, string> { ["family"] = v2 ? "v2" : "v1" });
            Assert.Equal(v2 ? "v2" : "v1", (await sandbox.GetTagsAsync())["family"]);
            Assert.Empty(await sandbox.TunnelsAsync(TimeSpan.FromSeconds(5)));
            Assert.Equal("in-exec\n", (await sandbox.RunAsync(["echo", "in-exec"])).Stdout);
            Assert.Null(await sandbox.PollAsync());

            await sandbox.TerminateAsync();

            Assert.Equal(137, await sandbox.WaitAsync());
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_fresh_handle_of_a_finished_sandbox_cannot_reach_its_router(bool v2)
    {
        await using var client = EngineFixture.CreateClient(fixture.Engine.Host, new SandboxClientOptions { UseSandboxCreateV2 = v2 });
        string id;
        await using (var sandbox = await fixture.CreateSandboxAsync(new SandboxCreateOptions { Command = ["true"] }, client))
        {
            id = sandbox.SandboxId;
            Assert.Equal(0, await sandbox.WaitAsync());
        }

        await using var again = await client.Sandboxes.FromIdAsync(id);

        Assert.Equal(0, await again.PollAsync());
        // Modal's rule: FAILED_PRECONDITION on router access means the sandbox has no router to offer any more.
        var error = await Assert.ThrowsAsync<SandboxException>(() => again.ExecAsync(["true"]));
        Assert.Equal("Command router access is not available for this sandbox", error.Message);
        Assert.Contains("has already finished", Assert.IsType<ConflictException>(error.InnerException).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Files_of_a_terminated_sandbox_fail_with_the_mapped_conflict()
    {
        var sandbox = await fixture.CreateSandboxAsync();
        await using (sandbox)
        {
            await sandbox.Filesystem.WriteTextAsync("/tmp/before", "x");
            await sandbox.TerminateAsync();
            Assert.Equal(137, await sandbox.WaitAsync());

            var read = await Assert.ThrowsAsync<ConflictException>(() => sandbox.Filesystem.ReadTextAsync("/tmp/before"));
            var write = await Assert.ThrowsAsync<ConflictException>(() => sandbox.Filesystem.WriteTextAsync("/tmp/after", "y"));

            Assert.Contains("has already finished", read.Message, StringComparison.Ordinal);
            Assert.Contains("has already finished", write.Message, StringComparison.Ordinal);
        }
    }
}
