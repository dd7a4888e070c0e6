using System.Globalization;

namespace TypedSandbox.Samples.Guide;

/// <summary>
/// Memory snapshots: a sandbox created with <see cref="SandboxCreateOptions.ExperimentalEnableSnapshot"/> (it runs
/// under gVisor) is checkpointed whole, processes and memory included; a sandbox restored from the snapshot continues
/// where it was: here a Python process keeps counting from the number it had reached.
/// </summary>
internal sealed class MemorySnapshots : IGuideSection
{
    // The count lives in the process's memory; the file only shows it.
    private const string Counter = """
        import os, time
        n = 0
        while True:
            n += 1
            open('/tmp/n.new', 'w').write(str(n))
            os.replace('/tmp/n.new', '/tmp/n')
            time.sleep(0.1)
        """;

    public string Name => "memory-snapshots";

    public string Title => "Snapshots: Memory Snapshots";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);
        await using var sb = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions
        {
            Command = ["python", "-c", Counter],
            ExperimentalEnableSnapshot = true,
            BlockNetwork = true, // on the local engine a memory snapshot needs a sandbox without network
        }, cancellationToken);
        var before = await CountAsync(sb, atLeast: 5, cancellationToken);

        var snapshot = await sb.ExperimentalSnapshotAsync(cancellationToken);
        await output.WriteLineAsync($"snapshot: {snapshot.SnapshotId[..3]}…");

        await using var restored = await client.Sandboxes.ExperimentalFromSnapshotAsync(snapshot, cancellationToken);
        var after = await CountAsync(restored, atLeast: before + 5, cancellationToken);
        await output.WriteLineAsync($"the restored sandbox went on counting from where it was: {after > before}");
        await restored.TerminateAsync(cancellationToken);
    }

    /// <summary>Reads the counter until it has reached <paramref name="atLeast"/>.</summary>
    private static async Task<int> CountAsync(Sandbox sandbox, int atLeast, CancellationToken cancellationToken)
    {
        while (true)
        {
            var text = (await sandbox.RunAsync(["cat", "/tmp/n"], cancellationToken: cancellationToken)).Stdout.Trim();
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= atLeast)
            {
                return n;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }
}
