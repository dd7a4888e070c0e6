namespace TypedSandbox.Samples.Guide;

/// <summary>Directory snapshots and image mounts: keep one directory as an image and mount it in a running sandbox.</summary>
internal sealed class DirectoryMounts : IGuideSection
{
    public string Name => "directory-mounts";

    public string Title => "Snapshots: Directory Snapshots and Mounting Images";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);

        Image directory;
        await using (var builder = await client.Sandboxes.CreateAsync(app, image, cancellationToken: cancellationToken))
        {
            (await builder.RunAsync(["bash", "-c", "mkdir -p /build/out && echo 'built once' > /build/out/result.txt"],
                cancellationToken: cancellationToken)).EnsureSuccess();
            directory = await builder.SnapshotDirectoryAsync("/build/out", cancellationToken: cancellationToken);
            await builder.TerminateAsync(cancellationToken);
        }

        await using var sb = await client.Sandboxes.CreateAsync(app, image, cancellationToken: cancellationToken);
        await sb.MountImageAsync("/mnt/out", directory, cancellationToken);
        await output.WriteAsync((await sb.RunAsync(["cat", "/mnt/out/result.txt"], cancellationToken: cancellationToken)).Stdout);
        await sb.UnmountImageAsync("/mnt/out", cancellationToken);
        var left = (await sb.RunAsync(["bash", "-c", "ls -A /mnt/out | wc -l"], cancellationToken: cancellationToken)).Stdout.Trim();
        await output.WriteLineAsync($"files after unmount: {left}");
        await sb.TerminateAsync(cancellationToken);
    }
}
