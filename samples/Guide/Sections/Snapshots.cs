namespace TypedSandbox.Samples.Guide;

/// <summary>Filesystem snapshots: capture a sandbox's files as an image and start new sandboxes from it.</summary>
internal sealed class Snapshots : IGuideSection
{
    public string Name => "snapshots";

    public string Title => "Snapshots: Filesystem Snapshots";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);

        Image snapshot;
        await using (var sb = await client.Sandboxes.CreateAsync(app, image, cancellationToken: cancellationToken))
        {
            (await sb.RunAsync(["bash", "-c", "mkdir -p /project && echo 'state from the first sandbox' > /project/notes.txt"],
                cancellationToken: cancellationToken)).EnsureSuccess();
            snapshot = await sb.SnapshotFilesystemAsync(cancellationToken: cancellationToken);
            await output.WriteLineAsync($"snapshot image: {snapshot.ImageId}");
            await sb.TerminateAsync(cancellationToken);
        }

        await using var restored = await client.Sandboxes.CreateAsync(app, snapshot, cancellationToken: cancellationToken);
        await output.WriteAsync((await restored.RunAsync(["cat", "/project/notes.txt"], cancellationToken: cancellationToken)).Stdout);
        await restored.TerminateAsync(cancellationToken);
    }
}
