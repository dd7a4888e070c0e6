using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TypedSandbox.Hosting;

/// <summary>Healthy when the server answers the registered <see cref="SandboxClient"/> and accepts its credentials.</summary>
/// <param name="client">The client to check.</param>
public sealed class SandboxHealthCheck(SandboxClient client) : IHealthCheck
{
    /// <inheritdoc/>
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            await client.PingAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"{client.ServerUrl} answered.");
        }
        catch (SandboxException e)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"{client.ServerUrl} did not answer: {e.GetType().Name}.", e);
        }
    }
}
