using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TypedSandbox;
using TypedSandbox.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers TypedSandbox in a service collection.</summary>
public static class TypedSandboxServiceCollectionExtensions
{
    /// <summary>
    /// Registers one shared <see cref="SandboxClient"/> (a singleton the container disposes with the host), configured,
    /// in order of precedence, by <paramref name="configure"/>, the <c>TypedSandbox</c> section of the registered
    /// <see cref="IConfiguration"/> (Modal's profile keys: <c>server_url</c>, <c>token_id</c>, <c>token_secret</c>,
    /// <c>environment</c>, …), the <c>MODAL_*</c> environment variables and <c>~/.modal.toml</c>. The client logs through
    /// the host's <see cref="ILoggerFactory"/> unless the options name another.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Changes to the options after configuration was applied.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddTypedSandbox(this IServiceCollection services, Action<SandboxClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<SandboxClientOptions>, ConfigureFromConfiguration>());
        if (configure is not null)
        {
            services.Configure(configure);
        }
        services.TryAddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<SandboxClientOptions>>().Value;
            // A copy: the options instance is shared, and the logger factory is the host's unless set.
            return new SandboxClient(options with { LoggerFactory = options.LoggerFactory ?? provider.GetService<ILoggerFactory>() });
        });
        return services;
    }

    /// <summary>
    /// Registers a <see cref="SandboxFactory{TSandbox}"/> that creates instances of a <c>[Sandbox]</c> class with the
    /// registered <see cref="SandboxClient"/>: <c>services.AddSandbox&lt;TestRunner&gt;()</c>. Each created instance owns
    /// its sandbox; the caller disposes it.
    /// </summary>
    /// <typeparam name="TSandbox">The <c>[Sandbox]</c> class (the generator makes it an <see cref="ITypedSandbox{TSelf}"/>).</typeparam>
    /// <param name="services">The service collection (call <see cref="AddTypedSandbox"/> too).</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddSandbox<TSandbox>(this IServiceCollection services)
        where TSandbox : class, ITypedSandbox<TSandbox> =>
        services.AddSandbox<TSandbox>(static (client, cancellationToken) => TSandbox.CreateAsync(client, cancellationToken));

    /// <summary>
    /// Registers a <see cref="SandboxFactory{TSandbox}"/> that creates instances with <paramref name="create"/> and the
    /// registered <see cref="SandboxClient"/>, e.g. a wrapper around a <c>[Sandbox]</c> class that prepares its sandbox.
    /// </summary>
    /// <typeparam name="TSandbox">What the factory creates.</typeparam>
    /// <param name="services">The service collection (call <see cref="AddTypedSandbox"/> too).</param>
    /// <param name="create">Creates an instance with the given client.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddSandbox<TSandbox>(this IServiceCollection services,
        Func<SandboxClient?, CancellationToken, Task<TSandbox>> create)
        where TSandbox : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(create);
        services.TryAddSingleton(provider => new SandboxFactory<TSandbox>(provider.GetRequiredService<SandboxClient>(), create));
        return services;
    }

    /// <summary>Applies the <c>TypedSandbox</c> configuration section, when an <see cref="IConfiguration"/> is registered.</summary>
    private sealed class ConfigureFromConfiguration(IServiceProvider provider) : IConfigureOptions<SandboxClientOptions>
    {
        public void Configure(SandboxClientOptions options)
        {
            if (provider.GetService<IConfiguration>() is { } configuration)
            {
                SandboxClientConfiguration.Apply(configuration.GetSection(SandboxClientConfiguration.SectionName), options);
            }
        }
    }
}
