using System.Diagnostics;
using System.Text;
using TypedSandbox.Bench.Harness;
using TypedSandbox.Bench.Reporting;

namespace TypedSandbox.Bench.Measurements;

/// <summary>
/// Create → first output of <c>echo hi</c> through our C# client (<see cref="SandboxClient"/>) against one engine of
/// section 1 (the main one: a cold start; the warm-pool one: a claim), timed in three parts: the create, the exec call,
/// the first stdout bytes.
/// </summary>
internal sealed class CSharpCreate : IAsyncDisposable
{
    private readonly SandboxClient _client;
    private readonly List<(double Create, double Exec, double FirstOutput)> _parts = [];
    private App? _app;
    private Image? _image;

    public CSharpCreate(string configPath) =>
        _client = new SandboxClient(new SandboxClientOptions { ConfigPath = configPath });

    /// <summary>One timed create → exec → first bytes; the sandbox is terminated after the timed span.</summary>
    public async Task<TimeSpan> RunAsync(CancellationToken cancellationToken)
    {
        // Resolved once, as an application would (and as the JS SDK series does).
        _app ??= await _client.Apps.FromNameAsync("bench", createIfMissing: true, cancellationToken: cancellationToken);
        _image ??= _client.Images.FromRegistry("busybox:latest");
        var started = Stopwatch.GetTimestamp();
        await using var sandbox = await _client.Sandboxes.CreateAsync(_app, _image, new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(30) }, cancellationToken);
        var created = Stopwatch.GetTimestamp();
        await using var process = await sandbox.ExecAsync(["echo", "hi"], cancellationToken: cancellationToken);
        var execStarted = Stopwatch.GetTimestamp();
        var buffer = new byte[64];
        var read = await process.Stdout.ReadAsync(buffer, cancellationToken);
        var firstBytes = Stopwatch.GetTimestamp();
        if (read == 0 || !Encoding.ASCII.GetString(buffer, 0, read).StartsWith('h'))
        {
            throw new InvalidOperationException($"echo hi printed '{Encoding.ASCII.GetString(buffer, 0, read)}'.");
        }

        await process.Stdout.ReadAllBytesAsync(cancellationToken);
        await process.WaitAsync(cancellationToken);
        _parts.Add((Milliseconds(started, created), Milliseconds(created, execStarted), Milliseconds(execStarted, firstBytes)));
        return Stopwatch.GetElapsedTime(started, firstBytes);
    }

    /// <summary>Adds the row and its parts (the first <paramref name="warmup"/> runs are not counted).</summary>
    public void Report(ReportSection section, string subject, Samples total, (string Name, Samples Samples)? peer, int warmup, Target goal)
    {
        var timed = _parts.Skip(warmup).ToList();
        section.Latency(subject, total, peer, goal);
        section.Latency("  of which `Sandboxes.CreateAsync`", new Samples(timed.Select(p => p.Create)));
        section.Latency("  of which `ExecAsync` call", new Samples(timed.Select(p => p.Exec)));
        section.Latency("  of which first stdout bytes", new Samples(timed.Select(p => p.FirstOutput)));
    }

    private static double Milliseconds(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    public ValueTask DisposeAsync() => _client.DisposeAsync();
}
