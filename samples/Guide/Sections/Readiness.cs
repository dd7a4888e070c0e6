namespace TypedSandbox.Samples.Guide;

/// <summary>Readiness (beta): start a server as the entrypoint and wait until the sandbox is ready before using it.</summary>
internal sealed class Readiness : IGuideSection
{
    public string Name => "readiness";

    public string Title => "Lifecycle: Readiness Probes";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);
        await using var sb = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions
        {
            Command = ["python", "-m", "http.server", "8080"],
            Timeout = TimeSpan.FromMinutes(5),
            ReadinessProbe = ReadinessProbe.Tcp(8080),
        }, cancellationToken);

        // The engine runs the probe inside the sandbox until the server accepts connections.
        await sb.WaitUntilReadyAsync(TimeSpan.FromMinutes(1), cancellationToken);
        await output.WriteLineAsync("Sandbox is ready");

        var page = await sb.RunAsync(["python", "-c", "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/').status)"],
            cancellationToken: cancellationToken);
        await output.WriteAsync(page.Stdout);
        await sb.TerminateAsync(cancellationToken);
    }
}
