using Microsoft.Extensions.Diagnostics.HealthChecks;
using TypedSandbox.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the TypedSandbox health check.</summary>
public static class TypedSandboxHealthChecksBuilderExtensions
{
    /// <summary>Adds a check that the server answers the registered <see cref="TypedSandbox.SandboxClient"/> (see <see cref="SandboxHealthCheck"/>).</summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">The status reported when the server does not answer; <see cref="HealthStatus.Unhealthy"/> by default.</param>
    /// <param name="tags">Tags to filter checks by.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddTypedSandbox(this IHealthChecksBuilder builder, string name = "typedsandbox",
        HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(name, provider => new SandboxHealthCheck(provider.GetRequiredService<TypedSandbox.SandboxClient>()),
            failureStatus, tags));
    }
}
