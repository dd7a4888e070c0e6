using Microsoft.Extensions.DependencyInjection;
using TypedSandbox.Server.Hosting;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Security.Tests;

/// <summary>An engine keeping one sandbox of each shape started ahead (<c>--warm-pool 1</c>).</summary>
public class WarmPoolEngine : SecurityEngine
{
    protected override Func<EngineOptions, EngineOptions>? Configure => options => options with { WarmPoolSize = 1 };
}

/// <summary>The same, isolating with gVisor.</summary>
public sealed class RunscWarmPoolEngine : WarmPoolEngine
{
    protected override string Runtime => "runsc";
}

/// <summary>
/// The warm pool's promise, tried as the next user of a pool would: a sandbox claimed from the pool sees nothing of
/// the sandboxes before it (files in its root filesystem or /tmp, processes, environment), and its own environment and
/// entrypoint are the ones it asked for.
/// </summary>
public abstract class WarmPoolIsolationTests(WarmPoolEngine engine)
{
    [Fact]
    public async Task A_sandbox_claimed_from_the_pool_sees_nothing_of_the_users_before_it()
    {
        var pool = engine.Engine.Host.Services.GetRequiredService<SandboxManager>().Pool;
        var shape = new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5), MemoryMiB = 300, Env = new Dictionary<string, string> { ["SECRET"] = "first-user" } };
        await using (var first = await engine.CreateSandboxAsync(shape))
        {
            var planted = await first.RunAsync(["sh", "-c", "echo first > /root/leak && echo first > /tmp/leak && (sleep 1007 >/dev/null 2>&1 &) && echo planted"]);
            Assert.Equal("planted\n", planted.Stdout);
            // The pool started this shape ahead while the first user was writing: a claim must still see none of it.
            await UntilPooledAsync(first, "a pooled sandbox of the first one's shape");
            var second = await ClaimAsync(pool, shape with { Env = new Dictionary<string, string> { ["STAGE"] = "second" } });
            await using (second)
            {
                var seen = await second.RunAsync(["sh", "-c", "cat /root/leak /tmp/leak 2>&1; ps -o args 2>/dev/null || cat /proc/[0-9]*/cmdline; echo; env"]);

                Assert.DoesNotContain("first", seen.Stdout, StringComparison.Ordinal);
                Assert.DoesNotContain("1007", seen.Stdout, StringComparison.Ordinal);
                Assert.DoesNotContain("SECRET", seen.Stdout, StringComparison.Ordinal);
                Assert.Contains("STAGE=second", seen.Stdout, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task A_claimed_sandbox_runs_its_own_entrypoint_with_its_own_environment()
    {
        var pool = engine.Engine.Host.Services.GetRequiredService<SandboxManager>().Pool;
        var shape = new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(5), MemoryMiB = 310 };
        await using (var first = await engine.CreateSandboxAsync(shape))
        {
            await UntilPooledAsync(first, "a pooled sandbox of that shape");
        }

        var claimed = await ClaimAsync(pool, shape with
        {
            Command = ["sh", "-c", "echo entrypoint sees $STAGE in $(pwd); exit 7"],
            Env = new Dictionary<string, string> { ["STAGE"] = "claimed" },
            Workdir = "/tmp",
        });
        await using (claimed)
        {
            Assert.Equal(7, await claimed.WaitAsync());
            Assert.Equal("entrypoint sees claimed in /tmp\n", await claimed.Stdout.ReadToEndAsync());
        }
    }

    /// <summary>Creates a sandbox of a pooled shape and checks it was served from the pool, not started cold.</summary>
    private async Task<Sandbox> ClaimAsync(WarmPool pool, SandboxCreateOptions options)
    {
        var ready = pool.ReadyIds;
        var sandbox = await engine.CreateSandboxAsync(options);
        var taskId = engine.Engine.Host.Services.GetRequiredService<SandboxManager>().Get(sandbox.SandboxId).TaskId;
        Assert.True(ready.Contains(taskId), $"sandbox {sandbox.SandboxId} (task {taskId}) was not claimed from the pool ({string.Join(", ", ready)})");
        return sandbox;
    }

    private async Task UntilPooledAsync(Sandbox sandbox, string what)
    {
        var manager = engine.Engine.Host.Services.GetRequiredService<SandboxManager>();
        var key = WarmPoolKey.Of(manager.Get(sandbox.SandboxId).Spec) ?? throw new InvalidOperationException("that shape is never pooled");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (manager.Pool.CountReady(key) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"waited a minute for {what}");
            await Task.Delay(20);
        }
    }
}

public sealed class CrunWarmPoolIsolationTests(WarmPoolEngine engine) : WarmPoolIsolationTests(engine), IClassFixture<WarmPoolEngine>;

public sealed class RunscWarmPoolIsolationTests(RunscWarmPoolEngine engine) : WarmPoolIsolationTests(engine), IClassFixture<RunscWarmPoolEngine>;
