using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Engine.Tests;

/// <summary>
/// The warm pool in the engine core: which creates it serves, what a claimed sandbox gets, what it never keeps.
/// Isolation between claims against real containers is in tests/Security (WarmPoolIsolationTests).
/// </summary>
public sealed class WarmPoolTests
{
    private static readonly WarmPoolOptions TwoPerShape = new() { SizePerKey = 2, RefillDelay = TimeSpan.Zero };

    [Fact]
    public async Task Off_by_default_a_create_starts_one_container_and_nothing_ahead()
    {
        await using var core = await EngineCore.StartAsync();
        await core.CreateAsync();
        await core.CreateAsync();

        Assert.Equal(2, core.Runtime.Started.Count);
        Assert.Equal(0, core.Sandboxes.Pool.ReadyCount);
    }

    [Fact]
    public async Task After_a_cold_create_the_pool_starts_its_shape_ahead_without_environment_or_entrypoint()
    {
        await using var core = await EngineCore.StartAsync(TwoPerShape);
        var first = await core.CreateAsync(spec => spec with
        {
            MemoryMb = 512,
            Environment = new Dictionary<string, string> { ["API_KEY"] = "first-users-secret" },
            EntrypointArgs = ["sleep", "1000"],
            Workdir = "/srv",
        });

        await Patience.UntilAsync(() => core.Sandboxes.Pool.ReadyCount == 2, "two pooled containers");
        var pooled = core.Runtime.Started.Values.Where(c => c.Id != first.TaskId).ToList();
        Assert.Equal(2, pooled.Count);
        var started = core.Container(first).Spec;
        Assert.All(pooled, c =>
        {
            Assert.Empty(c.Spec.Env);
            Assert.Null(c.Spec.Entrypoint);
            Assert.Null(c.Spec.Workdir);
            Assert.Null(c.Entrypoint);
            Assert.Equal(started.Limits, c.Spec.Limits);
            Assert.Equal(started.Network, c.Spec.Network);
            Assert.Equal(started.LayerDirs, c.Spec.LayerDirs);
        });
    }

    [Fact]
    public async Task A_matching_create_claims_a_pooled_container_with_its_own_ids_environment_and_entrypoint_and_the_pool_refills()
    {
        await using var core = await EngineCore.StartAsync(TwoPerShape);
        var first = await core.CreateAsync();
        await Patience.UntilAsync(() => core.Sandboxes.Pool.ReadyCount == 2, "two pooled containers");
        var pooledIds = core.Runtime.Started.Keys.Where(id => id != first.TaskId).ToHashSet();

        var claimed = await core.CreateAsync(spec => spec with
        {
            Name = "claimer",
            Tags = new Dictionary<string, string> { ["role"] = "worker" },
            Environment = new Dictionary<string, string> { ["STAGE"] = "claimed" },
            EntrypointArgs = ["sh", "-c", "echo started"],
        });

        Assert.Contains(claimed.TaskId, pooledIds);
        Assert.NotEqual(first.Id, claimed.Id);
        Assert.Same(claimed, core.Sandboxes.Catalog.FindRunningByName(EngineCore.AppId, "claimer"));
        Assert.Equal("worker", claimed.Tags["role"]);
        var container = core.Container(claimed);
        Assert.NotNull(container.Claim);
        Assert.Equal("claimed", container.Claim!.Env["STAGE"]);
        Assert.Equal(["sh", "-c", "echo started"], container.Claim.Entrypoint!.Args);
        Assert.NotNull(container.Entrypoint);
        Assert.Same(container.Entrypoint, claimed.Container!.Entrypoint);
        await Patience.UntilAsync(() => core.Sandboxes.Pool.ReadyCount == 2 && core.Runtime.Started.Count == 4, "the pool refilled");
    }

    [Fact]
    public async Task A_claimed_sandbox_counts_its_timeout_from_the_claim_not_from_when_it_was_started()
    {
        await using var core = await EngineCore.StartAsync(TwoPerShape);
        await core.CreateAsync();
        await Patience.UntilAsync(() => core.Sandboxes.Pool.ReadyCount == 2, "two pooled containers");
        core.Time.Advance(TimeSpan.FromMinutes(10));

        var claimed = await core.CreateAsync(spec => spec with { Timeout = TimeSpan.FromSeconds(60) });
        Assert.True(core.Container(claimed).Claim is not null, "the create did not claim from the pool");

        await core.AdvanceAsync(TimeSpan.FromSeconds(59));
        Assert.Null(claimed.Result);
        await core.AdvanceAsync(TimeSpan.FromSeconds(2));
        var result = await claimed.Completion.Within();
        Assert.Equal(SandboxOutcome.Timeout, result.Outcome);
    }

    [Fact]
    public async Task A_create_of_another_shape_starts_cold_and_teaches_the_pool_that_shape()
    {
        await using var core = await EngineCore.StartAsync(TwoPerShape);
        await core.CreateAsync();
        await Patience.UntilAsync(() => core.Sandboxes.Pool.ReadyCount == 2, "two pooled containers");

        var other = await core.CreateAsync(spec => spec with { MemoryMb = 256, Network = NetworkPolicy.Blocked });

        Assert.Null(core.Container(other).Claim);
        Assert.Equal(256L << 20, core.Container(other).Spec.Limits.MemoryBytes);
        await Patience.UntilAsync(() => core.Sandboxes.Pool.ReadyCount == 4, "the second shape pooled");
    }

    [Fact]
    public void Sandboxes_with_volumes_are_never_pooled()
    {
        var spec = new SandboxSpec { AppId = EngineCore.AppId, ImageId = EngineCore.ImageId, Volumes = [new VolumeMountSpec("vo-1", "/data", false)] };

        Assert.Null(WarmPoolKey.Of(spec));
        Assert.NotNull(WarmPoolKey.Of(spec with { Volumes = [] }));
    }

    [Fact]
    public async Task The_pool_keeps_no_more_than_its_memory_budget_holds()
    {
        await using var core = await EngineCore.StartAsync(new WarmPoolOptions { SizePerKey = 4, MemoryBudgetMiB = 1500, RefillDelay = TimeSpan.Zero });
        await core.CreateAsync(spec => spec with { MemoryMb = 1024 });
        await Patience.UntilAsync(() => core.Sandboxes.Pool.ReadyCount == 1, "one pooled container");

        // The refill stops at the budget rather than waiting: creates of the shape still claim and refill one at a time.
        await core.CreateAsync(spec => spec with { MemoryMb = 1024 });
        await Patience.UntilAsync(() => core.Sandboxes.Pool.ReadyCount == 1 && core.Runtime.Started.Count == 3, "the refill");
        Assert.Equal(1, core.Sandboxes.Pool.ReadyCount);
    }

    [Fact]
    public async Task A_claim_that_fails_on_its_name_releases_the_pooled_container()
    {
        await using var core = await EngineCore.StartAsync(TwoPerShape);
        await core.CreateAsync(spec => spec with { Name = "taken" });
        await Patience.UntilAsync(() => core.Sandboxes.Pool.ReadyCount == 2, "two pooled containers");

        var refused = await Assert.ThrowsAsync<EngineException>(() => core.CreateAsync(spec => spec with { Name = "taken" }));

        Assert.Equal(EngineErrorKind.AlreadyExists, refused.Kind);
        await Patience.UntilAsync(() => core.Runtime.Started.Values.Count(c => c.Disposed) == 1, "the released container disposed");
    }

    [Fact]
    public async Task A_refill_after_a_claim_waits_its_delay_so_the_claimer_has_the_cores_first()
    {
        await using var core = await EngineCore.StartAsync(TwoPerShape with { RefillDelay = TimeSpan.FromSeconds(1) });
        await core.CreateAsync();
        await Patience.UntilAsync(() => core.Sandboxes.Pool.ReadyCount == 2, "two pooled containers");

        await core.CreateAsync();
        await Task.Delay(100);
        Assert.Equal(3, core.Runtime.Started.Count);

        // On a loaded host the refill may arm its timer only after an advance of the clock: advance by the delay again
        // (every 200 ms of real time) until the refill has come.
        var sinceAdvance = System.Diagnostics.Stopwatch.StartNew();
        core.Time.Advance(TimeSpan.FromSeconds(1));
        await Patience.UntilAsync(() =>
        {
            if (core.Runtime.Started.Count == 4 && core.Sandboxes.Pool.ReadyCount == 2)
            {
                return true;
            }

            if (sinceAdvance.ElapsedMilliseconds >= 200)
            {
                core.Time.Advance(TimeSpan.FromSeconds(1));
                sinceAdvance.Restart();
            }

            return false;
        }, "the refill after its delay");
    }

    [Fact]
    public async Task Stopping_the_engine_terminates_every_pooled_container()
    {
        var core = await EngineCore.StartAsync(TwoPerShape);
        await core.CreateAsync();
        await Patience.UntilAsync(() => core.Sandboxes.Pool.ReadyCount == 2, "two pooled containers");

        await core.DisposeAsync();

        Assert.All(core.Runtime.Started.Values, c => Assert.True(c.Terminated));
    }
}
