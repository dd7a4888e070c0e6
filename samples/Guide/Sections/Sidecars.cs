namespace TypedSandbox.Samples.Guide;

/// <summary>
/// Sidecar containers (experimental in Modal's SDKs): a second container from another image that shares the sandbox's
/// network, with its own filesystem, processes and lifetime.
/// </summary>
internal sealed class Sidecars : IGuideSection
{
    public string Name => "sidecars";

    public string Title => "Sidecar Containers (experimental)";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);
        await using var sb = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions
        {
            Command = ["python", "-m", "http.server", "8080", "--bind", "127.0.0.1"],
            Timeout = TimeSpan.FromMinutes(5),
            ReadinessProbe = ReadinessProbe.Tcp(8080),
        }, cancellationToken);
        await sb.WaitUntilReadyAsync(TimeSpan.FromMinutes(1), cancellationToken);

        // A sidecar's image is built before it starts; it is another image than the sandbox's.
        var tools = await client.Images.FromRegistry(GuideSections.ImageReference).RunCommands("echo 'sidecar tools' > /opt/tools.txt")
            .BuildAsync(app, cancellationToken: cancellationToken);
        var sidecar = await sb.Sidecars.CreateAsync("tools", tools, cancellationToken: cancellationToken);

        // Same network: the sidecar reaches the main container's server on 127.0.0.1.
        var page = await sidecar.RunAsync(["python", "-c", "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/').status)"],
            cancellationToken: cancellationToken);
        await output.WriteAsync(page.Stdout);
        await output.WriteAsync((await sidecar.RunAsync(["cat", "/opt/tools.txt"], cancellationToken: cancellationToken)).Stdout);
        var names = (await sb.Sidecars.ListAsync(cancellationToken: cancellationToken)).Select(s => s.Name);
        await output.WriteLineAsync("sidecars: " + string.Join(", ", names));

        // Its own lifetime: terminating it leaves the sandbox running.
        await sidecar.TerminateAsync(cancellationToken);
        await output.WriteLineAsync($"sidecar exit code: {await sidecar.WaitAsync(cancellationToken)}");
        await output.WriteLineAsync($"sandbox still running: {await sb.PollAsync(cancellationToken) is null}");
        await sb.TerminateAsync(cancellationToken);
    }
}
