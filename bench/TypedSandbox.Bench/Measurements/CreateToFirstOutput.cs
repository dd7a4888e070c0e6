using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TypedSandbox.Bench.Baselines;
using TypedSandbox.Bench.Harness;
using TypedSandbox.Bench.Reporting;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Sandboxes;
using TypedSandbox.Testing;

namespace TypedSandbox.Bench.Measurements;

/// <summary>
/// Create → first output of <c>echo hi</c> on a cached image (busybox): the engine through Modal's JS SDK
/// (<c>sandboxes.create</c> + <c>exec</c> + first stdout bytes) and through our C# client, the bare OCI runtime (overlay +
/// config.json + <c>run</c>), a second engine with a warm pool (<c>--warm-pool 1</c>) through the JS SDK and through our
/// C# client, and docker/podman when they work here, in alternating rounds.
/// </summary>
internal static class CreateToFirstOutput
{
    public const string Title = "1. create → first output of `echo hi` (busybox, cached image)";

    public static readonly Target Goal = new("≤ 60 ms", median => median <= 60);

    public static async Task RunAsync(BenchContext bench, Report report, CancellationToken cancellationToken)
    {
        var section = report.Section(Title, "ms");
        var options = bench.Options;
        await using var js = bench.Js.StartSession();
        await using var pooledEngine = await TestEngine.StartAsync(options.Runtime, configure: o => o with { WarmPoolSize = 1 });
        var pool = pooledEngine.Host.Services.GetRequiredService<SandboxManager>().Pool;
        await using var pooledJs = new JsSdk(new Dictionary<string, string>(pooledEngine.ModalEnvironment)
        {
            ["BENCH_IMAGE"] = "busybox:latest",
            ["BENCH_APP"] = "bench",
        }).StartSession();
        await using var coldCSharp = new CSharpCreate(bench.Engine.ConfigPath);
        // The engine's own config.json run by crun itself: what the sandbox's isolation costs without the engine, with
        // the seccomp filter as Docker and Podman hand it over (crun compiles it at every run) and as the engine does.
        await using var isolatedPeers = new IsolatedPeers();
        var isolated = isolatedPeers.Items;
        if (options.Runtime == "crun")
        {
            var ids = SubordinateIds.Ensure();
            isolated.Add(("seccomp as an OCI profile (crun compiles it at each run, as Docker and Podman hand it over)",
                await bench.Raw.WithSandboxIsolationAsync(ids, compiledFilter: false, cancellationToken)));
            const string compiled = "seccomp filter compiled ahead (as the engine hands it over)";
            try
            {
                isolated.Add((compiled, await bench.Raw.WithSandboxIsolationAsync(ids, compiledFilter: true, cancellationToken)));
            }
            catch (InvalidOperationException e)
            {
                section.Unavailable($"raw crun with the sandbox's isolation, {compiled}", e.Message);
            }
        }
        await using var pooledCSharp = new CSharpCreate(pooledEngine.ConfigPath);
        var parts = new List<JsonElement>();
        var blockedParts = new List<JsonElement>();
        var pooledParts = new List<JsonElement>();
        var clis = bench.Clis.Where(c => c.Cli is not null && c.Image is not null).ToList();
        List<Func<Task<TimeSpan>>> series =
        [
            () => bench.Raw.RunEchoAsync(cancellationToken),
            async () =>
            {
                var reply = await js.CallAsync("create-exec", cancellationToken);
                parts.Add(reply);
                return TimeSpan.FromMilliseconds(reply.GetProperty("total").GetDouble());
            },
            async () =>
            {
                var reply = await js.CallAsync("create-exec", blockNetwork: true, cancellationToken);
                blockedParts.Add(reply);
                return TimeSpan.FromMilliseconds(reply.GetProperty("total").GetDouble());
            },
            () => coldCSharp.RunAsync(cancellationToken),
            async () =>
            {
                var ready = pool.ReadyCount;
                var reply = await pooledJs.CallAsync("create-exec", cancellationToken);
                pooledParts.Add(reply);
                // Outside the timed span: the refill runs before the next series, so it slows none of them.
                await WaitForRefillAsync(pool, ready, cancellationToken);
                return TimeSpan.FromMilliseconds(reply.GetProperty("total").GetDouble());
            },
            async () =>
            {
                var ready = pool.ReadyCount;
                var elapsed = await pooledCSharp.RunAsync(cancellationToken);
                await WaitForRefillAsync(pool, ready, cancellationToken);
                return elapsed;
            },
            .. isolated.Select(p => (Func<Task<TimeSpan>>)(() => p.Runtime.RunEchoAsync(cancellationToken))),
            .. clis.Select(c => (Func<Task<TimeSpan>>)(() => c.Cli!.RunEchoAsync(c.Image!, cancellationToken))),
        ];
        var cliBase = 6 + isolated.Count;
        var outcomes = await BenchContext.InterleaveAsync(options.Warmup, options.Iterations, options.Settle, series, cancellationToken);

        var raw = outcomes[0].Samples;
        var peer = raw is null ? ((string, Samples)?)null : (bench.RawName, raw);
        if (outcomes[1].Samples is { } engine)
        {
            var timed = parts.Skip(options.Warmup).ToList();
            Samples Part(string name) => new(timed.Select(s => s.GetProperty(name).GetDouble()));
            section.Latency("TypedSandbox, JS SDK (create + exec + first bytes)", engine, peer, Goal);
            section.Latency("  of which `sandboxes.create`", Part("create"));
            section.Latency("  of which `exec` call", Part("exec"));
            section.Latency("  of which first stdout bytes", Part("firstOutput"));
        }
        else
        {
            section.Failed("TypedSandbox, JS SDK", outcomes[1].Error!);
        }

        if (outcomes[2].Samples is { } blocked)
        {
            var timed = blockedParts.Skip(options.Warmup).ToList();
            section.Latency("TypedSandbox, JS SDK, `blockNetwork: true` (no network set-up)", blocked, peer, Goal);
            section.Latency("  of which `sandboxes.create`", new Samples(timed.Select(s => s.GetProperty("create").GetDouble())));
            section.Latency("  of which `exec` call", new Samples(timed.Select(s => s.GetProperty("exec").GetDouble())));
            section.Latency("  of which first stdout bytes", new Samples(timed.Select(s => s.GetProperty("firstOutput").GetDouble())));
        }
        else
        {
            section.Failed("TypedSandbox, JS SDK, blockNetwork", outcomes[2].Error!);
        }

        if (outcomes[3].Samples is { } fromCSharp)
        {
            coldCSharp.Report(section, "TypedSandbox, C# client (create + exec + first bytes)", fromCSharp, peer, options.Warmup, Goal);
        }
        else
        {
            section.Failed("TypedSandbox, C# client", outcomes[3].Error!);
        }

        if (outcomes[4].Samples is { } pooled)
        {
            var timed = pooledParts.Skip(options.Warmup).ToList();
            section.Latency("TypedSandbox, JS SDK, warm pool (`--warm-pool 1`: create claims a started sandbox)", pooled, peer, Goal);
            section.Latency("  of which `sandboxes.create`", new Samples(timed.Select(s => s.GetProperty("create").GetDouble())));
            section.Latency("  of which `exec` call", new Samples(timed.Select(s => s.GetProperty("exec").GetDouble())));
            section.Latency("  of which first stdout bytes", new Samples(timed.Select(s => s.GetProperty("firstOutput").GetDouble())));
        }
        else
        {
            section.Failed("TypedSandbox, JS SDK, warm pool", outcomes[4].Error!);
        }

        if (outcomes[5].Samples is { } pooledFromCSharp)
        {
            pooledCSharp.Report(section, "TypedSandbox, C# client, warm pool (same engine: create claims a started sandbox)", pooledFromCSharp, peer, options.Warmup, Goal);
        }
        else
        {
            section.Failed("TypedSandbox, C# client, warm pool", outcomes[5].Error!);
        }

        if (raw is not null)
        {
            section.Latency($"{bench.RawName} (overlay + config.json + `{options.Runtime} run`)", raw);
        }
        else
        {
            section.Failed($"{bench.RawName} run", outcomes[0].Error!);
        }

        for (var i = 0; i < isolated.Count; i++)
        {
            var (peerName, peerRuntime) = isolated[i];
            var subject = $"raw crun with the sandbox's isolation, {peerName}";
            if (outcomes[6 + i].Samples is { } same)
            {
                section.Latency(subject, same, peer);
                var against = new[] { ("JS SDK", outcomes[1].Samples), ("C# client", outcomes[3].Samples) }
                    .Where(o => o.Samples is not null)
                    .Select(o => string.Create(CultureInfo.InvariantCulture, $"{o.Item1} {o.Samples!.Median / same.Median:0.00}×"));
                section.Notes.Add($"Against raw crun with the sandbox's isolation, {peerName}, the cold create is (median over median): {string.Join(", ", against)}.");
            }
            else
            {
                section.Failed(subject, outcomes[6 + i].Error!);
            }
        }

        foreach (var cli in bench.Clis)
        {
            var subject = $"`{cli.Name} run --rm`";
            var index = clis.IndexOf(cli);
            if (index < 0)
            {
                section.Unavailable(subject, cli.Reason);
            }
            else if (outcomes[cliBase + index].Samples is { } samples)
            {
                section.Latency(subject, samples, peer);
                if (outcomes[1].Samples is { } ours)
                {
                    section.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                        $"TypedSandbox (JS SDK) is {samples.Median / ours.Median:0.0}× faster than {subject} at the median (target: ≥ 4×)."));
                }
            }
            else
            {
                section.Failed(subject, outcomes[cliBase + index].Error!);
            }
        }

        section.Notes.Add("The series run in alternating rounds (raw, JS SDK, JS SDK without network, C# client, JS SDK on a second engine with a warm pool, the C# client on that engine, the two raw crun runs with the sandbox's isolation (crun only), then docker/podman if present), so load that comes and goes on the host falls on all alike.");
        section.Notes.Add("The warm-pool series claims the one sandbox its engine keeps started for the shape; the engine refills it after the claim, and the bench waits for the refill outside the timed span so it slows no other series.");
        section.Notes.Add("The `exec` part on a new sandbox includes setting up the SDK's command-router client for it (a new HTTP/2 connection), which later execs reuse. " +
            "On a loopback engine both clients dial the router without TLS (Modal's local-server rule), so no TLS handshake is in these figures.");
        section.Notes.Add("The JS SDK runs in one long-lived node process: app and image objects are resolved once, as an application would; " +
            "each iteration terminates its sandbox outside the timed span.");
        section.Notes.Add($"The {bench.RawName} series uses the engine's own image layers (its image store) and is timed from " +
            "before the bundle directories are made to the first stdout bytes read from the runtime; it has no seccomp profile and no agent.");
    }

    /// <summary>The raw peers with the sandbox's isolation, removed with everything they made when the section ends.</summary>
    private sealed class IsolatedPeers : IAsyncDisposable
    {
        public List<(string Name, RawOciRuntime Runtime)> Items { get; } = [];

        public async ValueTask DisposeAsync()
        {
            foreach (var (_, runtime) in Items)
            {
                await runtime.DisposeAsync();
            }
        }
    }

    /// <summary>Waits until the pool holds as many ready sandboxes as before the claim (at least one).</summary>
    private static async Task WaitForRefillAsync(WarmPool pool, int readyBefore, CancellationToken cancellationToken)
    {
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        patience.CancelAfter(TimeSpan.FromSeconds(30));
        while (pool.ReadyCount < Math.Max(1, readyBefore))
        {
            await Task.Delay(1, patience.Token);
        }
    }
}
