using TypedSandbox.Sandboxes;

namespace TypedSandbox.Runtime.Tests.Engine;

/// <summary>Sandbox handles against the real engine: lookup, tags, listing, names, entrypoint stdio, terminate.</summary>
[Collection(RuntimeEngineGroup.Name)]
public sealed class SandboxLifecycleTests(EngineFixture fixture)
{
    [Fact]
    public async Task A_missing_app_is_NotFound_unless_created()
    {
        var error = await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.Apps.FromNameAsync("no-such-app-" + Guid.NewGuid().ToString("N")[..8]));

        Assert.StartsWith("App 'no-such-app-", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Terminate_ends_the_sandbox_with_137_and_poll_sees_it()
    {
        var sandbox = await fixture.CreateSandboxAsync();
        await using (sandbox)
        {
            Assert.Null(await sandbox.PollAsync());

            await sandbox.TerminateAsync();

            Assert.Equal(137, await sandbox.WaitAsync());
            Assert.Equal(137, await sandbox.PollAsync());
            await sandbox.TerminateAsync();
            Assert.Equal(137, await sandbox.PollAsync());
        }
    }

    [Fact]
    public async Task A_sandbox_without_a_readiness_probe_is_ready()
    {
        await using var sandbox = await fixture.CreateSandboxAsync();

        await sandbox.WaitUntilReadyAsync(TimeSpan.FromMinutes(1));

        Assert.Null(await sandbox.PollAsync());
    }

    [Fact]
    public async Task Disposing_the_handle_terminates_the_sandbox()
    {
        string id;
        await using (var sandbox = await fixture.CreateSandboxAsync())
        {
            id = sandbox.SandboxId;
        }

        var again = await fixture.Client.Sandboxes.FromIdAsync(id);
        await using (again)
        {
            Assert.NotNull(await again.PollAsync());
        }
    }

    [Fact]
    public async Task FromId_finds_a_running_sandbox_and_rejects_unknown_ids()
    {
        await using var sandbox = await fixture.CreateSandboxAsync();

        var found = await fixture.Client.Sandboxes.FromIdAsync(sandbox.SandboxId);
        await found.DetachAsync();

        Assert.Equal(sandbox.SandboxId, found.SandboxId);
        await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.Sandboxes.FromIdAsync("sb-ABCDEFGHIJKLMNOPQRSTUV"));
    }

    [Fact]
    public async Task Tags_are_set_read_and_used_to_list()
    {
        var marker = Guid.NewGuid().ToString("N")[..10];
        await using var tagged = await fixture.CreateSandboxAsync(new SandboxCreateOptions
        {
            Tags = new Dictionary<string, string> { ["suite"] = marker, ["role"] = "a" },
        });
        await using var other = await fixture.CreateSandboxAsync();

        Assert.Equal(new Dictionary<string, string> { ["suite"] = marker, ["role"] = "a" }, await tagged.GetTagsAsync());
        await other.SetTagsAsync(new Dictionary<string, string> { ["suite"] = marker, ["role"] = "b" });

        var all = new List<string>();
        await foreach (var found in fixture.Client.Sandboxes.ListAsync(fixture.App.AppId, new Dictionary<string, string> { ["suite"] = marker }))
        {
            all.Add(found.SandboxId);
            await found.DetachAsync();
        }
        var onlyB = new List<string>();
        await foreach (var found in fixture.Client.Sandboxes.ListAsync(fixture.App.AppId, new Dictionary<string, string> { ["suite"] = marker, ["role"] = "b" }))
        {
            onlyB.Add(found.SandboxId);
            await found.DetachAsync();
        }

        Assert.Equal([other.SandboxId, tagged.SandboxId], all);
        Assert.Equal([other.SandboxId], onlyB);
    }

    [Fact]
    public async Task Names_are_unique_among_running_sandboxes_and_findable()
    {
        var name = "named-" + Guid.NewGuid().ToString("N")[..8];
        await using var sandbox = await fixture.CreateSandboxAsync(new SandboxCreateOptions { Name = name });

        var found = await fixture.Client.Sandboxes.FromNameAsync(fixture.App.Name, name);
        await found.DetachAsync();
        Assert.Equal(sandbox.SandboxId, found.SandboxId);

        await Assert.ThrowsAsync<AlreadyExistsException>(() => fixture.CreateSandboxAsync(new SandboxCreateOptions { Name = name }));
        var missing = await Assert.ThrowsAsync<NotFoundException>(() => fixture.Client.Sandboxes.FromNameAsync(fixture.App.Name, name + "-x"));
        Assert.Equal($"Sandbox with name '{name}-x' not found in App '{fixture.App.Name}'", missing.Message);
    }

    [Fact]
    public async Task Entrypoint_output_and_exit_code_are_readable()
    {
        await using var sandbox = await fixture.CreateSandboxAsync(new SandboxCreateOptions
        {
            Command = ["sh", "-c", "echo from-entrypoint; echo to-stderr >&2; exit 6"],
        });

        Assert.Equal("from-entrypoint\n", await sandbox.Stdout.ReadToEndAsync());
        Assert.Equal("to-stderr\n", await sandbox.Stderr.ReadToEndAsync());
        Assert.Equal(6, await sandbox.WaitAsync());
    }

    [Fact]
    public async Task Entrypoint_stdin_reaches_the_entrypoint()
    {
        await using var sandbox = await fixture.CreateSandboxAsync(new SandboxCreateOptions { Command = ["cat"] });

        await sandbox.Stdin.WriteAsync("echoed back\n");
        await sandbox.Stdin.CloseAsync();

        Assert.Equal("echoed back\n", await sandbox.Stdout.ReadToEndAsync());
        Assert.Equal(0, await sandbox.WaitAsync());
    }

    [Fact]
    public async Task Exec_in_a_finished_sandbox_fails_clearly()
    {
        await using var sandbox = await fixture.CreateSandboxAsync(new SandboxCreateOptions { Command = ["true"] });
        Assert.Equal(0, await sandbox.WaitAsync());

        await Assert.ThrowsAnyAsync<ConflictException>(() => sandbox.RunAsync(["echo", "too late"]));
    }

    [Fact]
    public async Task Default_creates_go_through_SandboxCreateV2_and_get_its_26_character_ids()
    {
        // A silent fallback to the V1 create would still run every "V2" test: the id's shape tells which path ran.
        await using var sandbox = await fixture.CreateSandboxAsync();

        Assert.Matches("^sb-[0-9A-Za-z]{26}$", sandbox.SandboxId);
        Assert.False(SandboxIds.IsV1(sandbox.SandboxId));
        Assert.Equal("v2\n", (await sandbox.RunAsync(["echo", "v2"])).Stdout);
    }

    [Fact]
    public async Task V1_creates_get_V1_ids_and_serve_exec_and_entrypoint_output()
    {
        await using var client = EngineFixture.CreateClient(fixture.Engine.Host, new SandboxClientOptions { UseSandboxCreateV2 = false });
        await using var sandbox = await fixture.CreateSandboxAsync(new SandboxCreateOptions
        {
            Command = ["sh", "-c", "echo v1-entrypoint; sleep 600"],
            Env = new Dictionary<string, string> { ["FROM_ENV"] = "v1-env" },
        }, client);

        Assert.Matches("^sb-[0-9A-Za-z]{22}$", sandbox.SandboxId);
        Assert.True(SandboxIds.IsV1(sandbox.SandboxId), sandbox.SandboxId);
        Assert.Equal("v1-env\n", (await sandbox.RunAsync(["sh", "-c", "echo $FROM_ENV"])).Stdout);
        Assert.Equal("v1-entrypoint", await sandbox.Stdout.ReadLineAsync());
    }
}
