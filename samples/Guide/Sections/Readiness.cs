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
        }, cancellationToken);

        // The guide passes readiness_probe=modal.Probe.with_tcp(8080); the C# client has no probe option yet, so the
        // probe runs as a command: poll the port until the server accepts connections.
        await sb.WaitUntilReadyAsync(TimeSpan.FromMinutes(1), cancellationToken);
        const string probe = "import socket,time\nfor _ in range(600):\n    try:\n        socket.create_connection(('127.0.0.1', 8080), 1).close(); break\n    except OSError:\n        time.sleep(0.1)\n";
        (await sb.RunAsync(["python", "-c", probe], cancellationToken: cancellationToken)).EnsureSuccess();
        await output.WriteLineAsync("Sandbox is ready");

        var page = await sb.RunAsync(["python", "-c", "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/').status)"],
            cancellationToken: cancellationToken);
        await output.WriteAsync(page.Stdout);
        await sb.TerminateAsync(cancellationToken);
    }
}
