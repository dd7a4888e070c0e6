namespace TypedSandbox;

/// <summary>A forwarded port of a sandbox.</summary>
/// <param name="ContainerPort">The port inside the sandbox.</param>
/// <param name="Host">The host to connect to (TLS).</param>
/// <param name="Port">The port to connect to (TLS).</param>
/// <param name="UnencryptedHost">The host of the plain TCP endpoint, if there is one.</param>
/// <param name="UnencryptedPort">The port of the plain TCP endpoint, if there is one.</param>
public sealed record Tunnel(int ContainerPort, string Host, int Port, string? UnencryptedHost, int? UnencryptedPort)
{
    /// <summary>The tunnel's URL: <c>https://host</c>, with the port unless it is 443.</summary>
    public Uri Url => new(Port == 443 ? $"https://{Host}" : $"https://{Host}:{Port}");
}
