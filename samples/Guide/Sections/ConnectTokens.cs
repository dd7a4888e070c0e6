using System.Net.Http.Headers;

namespace TypedSandbox.Samples.Guide;

/// <summary>
/// Networking: connecting to sandboxes with HTTP. A connect token admits HTTP requests to the sandbox's port 8080; the
/// server sees the token's user metadata in <c>X-Verified-User-Data</c>.
/// </summary>
internal sealed class ConnectTokens : IGuideSection
{
    private const string Server = """
        import http.server
        class Echo(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = ("user data: " + self.headers.get("X-Verified-User-Data", "")).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        http.server.HTTPServer(("127.0.0.1", 8080), Echo).serve_forever()
        """;

    public string Name => "connect-tokens";

    public string Title => "Networking: Connecting to Sandboxes with HTTP";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);
        await using var sb = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions
        {
            Command = ["python", "-c", Server],
            ReadinessProbe = ReadinessProbe.Tcp(8080),
        }, cancellationToken);
        await sb.WaitUntilReadyAsync(TimeSpan.FromMinutes(1), cancellationToken);

        var credentials = await sb.CreateConnectTokenAsync(userMetadata: """{"user_id": "foo"}""", cancellationToken: cancellationToken);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, credentials.Url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credentials.Token);
        using var response = await http.SendAsync(request, cancellationToken);
        await output.WriteLineAsync(await response.Content.ReadAsStringAsync(cancellationToken));

        using var refused = await http.GetAsync(credentials.Url, cancellationToken);
        await output.WriteLineAsync($"without the token: {(int)refused.StatusCode}");
        await sb.TerminateAsync(cancellationToken);
    }
}
