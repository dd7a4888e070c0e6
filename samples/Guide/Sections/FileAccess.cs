namespace TypedSandbox.Samples.Guide;

/// <summary>File access: read, write, list, create and remove files in a running sandbox.</summary>
internal sealed class FileAccess : IGuideSection
{
    public string Name => "files";

    public string Title => "Filesystem access";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);
        await using var sb = await client.Sandboxes.CreateAsync(app, image, cancellationToken: cancellationToken);
        var fs = sb.Filesystem;

        await fs.WriteTextAsync("/tmp/test.txt", "Hello World\n", cancellationToken);
        await output.WriteAsync(await fs.ReadTextAsync("/tmp/test.txt", cancellationToken));

        await fs.MakeDirectoryAsync("/tmp/my-dir/nested", parents: true, cancellationToken);
        await fs.WriteFileAsync("/tmp/my-dir/data.bin", new byte[] { 1, 2, 3 }, cancellationToken);
        var entries = await fs.ListFilesAsync("/tmp/my-dir", cancellationToken);
        await output.WriteLineAsync($"ls /tmp/my-dir: {string.Join(", ", entries.Select(e => e.Name).Order(StringComparer.Ordinal))}");

        // Files written through the API are visible to commands, and the other way round.
        await output.WriteAsync((await sb.RunAsync(["cat", "/tmp/test.txt"], cancellationToken: cancellationToken)).Stdout);

        await fs.RemoveAsync("/tmp/my-dir", recursive: true, cancellationToken);
        try
        {
            await fs.StatAsync("/tmp/my-dir", cancellationToken);
        }
        catch (SandboxFilesystemException e)
        {
            await output.WriteLineAsync($"after rm: {e.Kind}");
        }
        await sb.TerminateAsync(cancellationToken);
    }
}
