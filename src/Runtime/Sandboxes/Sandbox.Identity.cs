using TypedSandbox.Protocol.Client;
using TypedSandbox.Sandboxes;
using TypedSandbox.Validation;

namespace TypedSandbox;

/// <summary>A sandbox's identity: a name set while it runs, connect tokens for HTTP requests to it.</summary>
public sealed partial class Sandbox
{
    /// <summary>Names a running sandbox created without a name; it is then found by <see cref="SandboxService.FromNameAsync"/>.</summary>
    /// <param name="name">Unique among the app's running sandboxes.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="InvalidArgumentException">The name breaks the name rules.</exception>
    /// <exception cref="AlreadyExistsException">Another running sandbox of the app holds the name.</exception>
    /// <exception cref="ConflictException">The sandbox already has a name or has finished.</exception>
    public async Task SetNameAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (ObjectNames.Check(name, "Sandbox name") is { } problem)
        {
            throw new InvalidArgumentException(problem);
        }

        await Client.ControlPlane.CallAsync("SandboxSetName", static (c, r, o) => c.SandboxSetNameAsync(r, o),
            new SandboxSetNameRequest { SandboxId = SandboxId, Name = name }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates a token for HTTP requests to a port of the sandbox (Modal's <c>createConnectToken</c>).</summary>
    /// <param name="port">The sandbox port requests reach; 8080 by default.</param>
    /// <param name="userMetadata">Passed to the sandbox's server in the <c>X-Verified-User-Data</c> header.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="InvalidArgumentException">The port is out of range.</exception>
    public async Task<SandboxConnectCredentials> CreateConnectTokenAsync(int port = 8080, string? userMetadata = null, CancellationToken cancellationToken = default)
    {
        if (port is < 1 or > 65535)
        {
            throw new InvalidArgumentException($"A connect token's port must be in [1, 65535], got {port}");
        }

        var request = new SandboxCreateConnectTokenRequest { SandboxId = SandboxId, UserMetadata = userMetadata ?? "", Port = (uint)port };
        var response = SandboxIds.IsV1(SandboxId)
            ? await Client.ControlPlane.CallAsync("SandboxCreateConnectToken", static (c, r, o) => c.SandboxCreateConnectTokenAsync(r, o), request, cancellationToken).ConfigureAwait(false)
            : await Client.ControlPlane.CallAsync("SandboxCreateConnectTokenV2", static (c, r, o) => c.SandboxCreateConnectTokenV2Async(r, o), request, cancellationToken).ConfigureAwait(false);
        return new SandboxConnectCredentials(new Uri(response.Url), response.Token);
    }
}
