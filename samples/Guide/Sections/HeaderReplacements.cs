namespace TypedSandbox.Samples.Guide;

/// <summary>
/// Networking: outbound header replacement (Modal's <c>experimental_outbound_policy</c>). The engine's egress proxy, outside
/// the sandbox, sets headers on the sandbox's plain HTTP requests to matching names, replacing the sandbox's own; values
/// may use <c>$KEY</c> from a named secret, so the secret never enters the sandbox. An update replaces the rules live.
/// </summary>
/// <remarks>
/// The proxy sends a request only to the address its Host name has on the engine's host. So that the guide needs no
/// server beyond this machine, the server runs in the sandbox and requests name <c>localhost</c>: the proxy connects
/// from the sandbox's network namespace, where loopback is the sandbox itself. In real use the domain is your API's.
/// </remarks>
internal sealed class HeaderReplacements : IGuideSection
{
    private const string Server = """
        import http.server
        class Echo(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = str(self.headers.get("Authorization")).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        http.server.HTTPServer(("0.0.0.0", 80), Echo).serve_forever()
        """;

    // A request to a documentation address (192.0.2.1) naming localhost, with the sandbox's own Authorization.
    private const string Request = """
        import socket
        s = socket.create_connection(("192.0.2.1", 80), timeout=10)
        s.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\nAuthorization: Bearer from-the-sandbox\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        print(data.decode().split("\r\n\r\n", 1)[1])
        """;

    public string Name => "outbound-headers";

    public string Title => "Networking: outbound header replacement";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);
        static ExperimentalOutboundPolicy Authorization(string value) =>
            new ExperimentalOutboundPolicy().WithHeaderReplacement("localhost", new Dictionary<string, string> { ["Authorization"] = value });
        await using var sb = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions
        {
            Command = ["python", "-c", Server],
            ReadinessProbe = ReadinessProbe.Tcp(80),
            ExperimentalOutboundPolicy = Authorization("Bearer engine-token"),
        }, cancellationToken);
        await sb.WaitUntilReadyAsync(TimeSpan.FromMinutes(1), cancellationToken);

        await output.WriteLineAsync($"the server received: {await RequestAsync(sb, cancellationToken)}");
        await sb.ExperimentalUpdateOutboundPolicyAsync(Authorization("Bearer rotated-token"), cancellationToken);
        await output.WriteLineAsync($"after the live update: {await RequestAsync(sb, cancellationToken)}");
        await sb.ExperimentalUpdateOutboundPolicyAsync(new ExperimentalOutboundPolicy(), cancellationToken);
        await output.WriteLineAsync($"with no replacements: {await RequestAsync(sb, cancellationToken)}");
        await sb.TerminateAsync(cancellationToken);
    }

    private static async Task<string> RequestAsync(Sandbox sb, CancellationToken cancellationToken) =>
        (await sb.RunAsync(["python", "-c", Request], cancellationToken: cancellationToken)).Stdout.Trim();
}
