namespace TypedSandbox.Samples.Guide;

/// <summary>Configuration: volumes persist files across sandboxes.</summary>
internal sealed class Volumes : IGuideSection
{
    public string Name => "volumes";

    public string Title => "Configuration: Volumes";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);
        var vol = await client.Volumes.FromNameAsync("my-volume", createIfMissing: true, cancellationToken: cancellationToken);

        await using (var writer = await client.Sandboxes.CreateAsync(app, image,
            new SandboxCreateOptions { Volumes = new Dictionary<string, Volume> { ["/cache"] = vol } }, cancellationToken))
        {
            (await writer.RunAsync(["bash", "-c", "echo 'hello from the first sandbox' > /cache/hello.txt"], cancellationToken: cancellationToken)).EnsureSuccess();
            await writer.TerminateAsync(cancellationToken);
        }

        await using var reader = await client.Sandboxes.CreateAsync(app, image,
            new SandboxCreateOptions { Volumes = new Dictionary<string, Volume> { ["/cache"] = vol.AsReadOnly() } }, cancellationToken);
        var read = await reader.RunAsync(["cat", "/cache/hello.txt"], cancellationToken: cancellationToken);
        await output.WriteAsync(read.Stdout);

        var write = await reader.RunAsync(["bash", "-c", "echo nope > /cache/other.txt"], cancellationToken: cancellationToken);
        await output.WriteLineAsync($"writing to a read-only mount: returncode {write.ExitCode}");
        await reader.TerminateAsync(cancellationToken);
    }
}
