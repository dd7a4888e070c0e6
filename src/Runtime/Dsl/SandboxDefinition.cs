using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using TypedSandbox.Validation;

namespace TypedSandbox.Dsl;

/// <summary>
/// What a <c>[Sandbox]</c> class declares, as the generated code hands it to the runtime: one static instance per class.
/// Creating, finding and listing sandboxes happen here, so generated code stays a few obvious lines. Every rule the
/// analyzers check at compile time is checked again here, by the same validation code, before anything is sent.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class SandboxDefinition
{
    /// <summary>The app used when a class declares none.</summary>
    public const string DefaultApp = "typedsandbox";

    private readonly Lazy<string?> _problem;

    /// <summary>Creates an empty definition; set its properties with an object initializer.</summary>
    public SandboxDefinition()
    {
        _problem = new Lazy<string?>(FindProblem);
    }

    /// <summary>The app the sandbox belongs to; <see cref="DefaultApp"/> when <see langword="null"/>.</summary>
    public string? App { get; init; }

    /// <summary>The sandbox's name, unique among the app's running sandboxes.</summary>
    public string? Name { get; init; }

    /// <summary>The sandbox's lifetime as a duration string ("10m"); 5 minutes when <see langword="null"/>.</summary>
    public string? Timeout { get; init; }

    /// <summary>Terminates the sandbox after this long without activity.</summary>
    public string? IdleTimeout { get; init; }

    /// <summary>The working directory of the entrypoint and of commands that set none.</summary>
    public string? Workdir { get; init; }

    /// <summary>CPU cores reserved; 0 for the server's default.</summary>
    public double Cpu { get; init; }

    /// <summary>Memory reserved in MiB; 0 for the server's default.</summary>
    public int MemoryMb { get; init; }

    /// <summary>Blocks all network access except loopback.</summary>
    public bool BlockNetwork { get; init; }

    /// <summary>CIDR ranges the sandbox may reach.</summary>
    public IReadOnlyList<string> CidrAllowlist { get; init; } = [];

    /// <summary>Ports exposed through TLS tunnels.</summary>
    public IReadOnlyList<int> EncryptedPorts { get; init; } = [];

    /// <summary>Ports exposed through plain TCP tunnels.</summary>
    public IReadOnlyList<int> UnencryptedPorts { get; init; } = [];

    /// <summary>Asks the server for verbose lifecycle logs.</summary>
    public bool Verbose { get; init; }

    /// <summary>The image; a Debian slim base when <see langword="null"/>.</summary>
    public ImageDefinition? Image { get; init; }

    /// <summary>Volumes to mount (created when missing).</summary>
    public IReadOnlyList<VolumeMount> Volumes { get; init; } = [];

    /// <summary>Names of secrets to inject.</summary>
    public IReadOnlyList<string> Secrets { get; init; } = [];

    /// <summary>Host environment variables copied into the sandbox as secrets.</summary>
    public IReadOnlyList<EnvironmentSecret> SecretsFromEnvironment { get; init; } = [];

    /// <summary>Tags set on the sandbox; <see cref="ListAsync"/> filters by them.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>The sandbox's main process; an idle process when empty.</summary>
    public IReadOnlyList<string> Entrypoint { get; init; } = [];

    private string AppName => App ?? DefaultApp;

    /// <summary>Throws <see cref="InvalidArgumentException"/> when a value breaks a rule of the shared rule book.</summary>
    public void Validate()
    {
        if (_problem.Value is { } message)
        {
            throw new InvalidArgumentException(message);
        }
    }

    /// <summary>Creates the sandbox: resolves app, image, secrets and volumes, then asks the server to start it.</summary>
    /// <param name="client">The client; <see cref="SandboxClient.Default"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    /// <returns>The running sandbox.</returns>
    public async Task<Sandbox> CreateSandboxAsync(SandboxClient? client, CancellationToken cancellationToken)
    {
        Validate();
        client ??= SandboxClient.Default;

        // Host variables first: a missing one fails before anything is created on the server.
        var hostValues = SecretsFromEnvironment.Select(s => s.ReadHost()).Where(v => v.Count > 0).ToList();
        var app = await client.Apps.FromNameAsync(AppName, createIfMissing: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        var secrets = new List<Secret>();
        foreach (var name in Secrets)
        {
            secrets.Add(await client.Secrets.FromNameAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false));
        }

        secrets.AddRange(hostValues.Select(client.Secrets.FromDictionary));

        var volumes = new Dictionary<string, Volume>(StringComparer.Ordinal);
        foreach (var mount in Volumes)
        {
            var volume = await client.Volumes.FromNameAsync(mount.VolumeName, createIfMissing: true, cancellationToken: cancellationToken).ConfigureAwait(false);
            volumes.Add(mount.MountPath, mount.ReadOnly ? volume.AsReadOnly() : volume);
        }

        var image = (Image ?? new ImageDefinition()).Resolve(client);
        var options = new SandboxCreateOptions
        {
            Command = Entrypoint.Count > 0 ? RenderEntrypoint() : null,
            Timeout = Timeout is null ? null : ParseDuration(Timeout, "Timeout"),
            IdleTimeout = IdleTimeout is null ? null : ParseDuration(IdleTimeout, "Idle timeout"),
            Workdir = Workdir,
            Secrets = secrets,
            Volumes = volumes,
            Cpu = Cpu > 0 ? Cpu : null,
            MemoryMiB = MemoryMb > 0 ? MemoryMb : null,
            BlockNetwork = BlockNetwork,
            CidrAllowlist = CidrAllowlist.Count > 0 ? CidrAllowlist : null,
            EncryptedPorts = EncryptedPorts.Count > 0 ? EncryptedPorts : null,
            UnencryptedPorts = UnencryptedPorts.Count > 0 ? UnencryptedPorts : null,
            Name = Name,
            Tags = Tags.Count > 0 ? Tags : null,
            Verbose = Verbose,
        };
        return await client.Sandboxes.CreateAsync(app, image, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Connects to a running sandbox by id.</summary>
    [SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "Generated code calls every operation on the class's definition.")]
    public Task<Sandbox> FromIdAsync(string sandboxId, SandboxClient? client, CancellationToken cancellationToken) =>
        (client ?? SandboxClient.Default).Sandboxes.FromIdAsync(sandboxId, cancellationToken);

    /// <summary>Finds a running sandbox of this definition's app by name.</summary>
    public Task<Sandbox> FromNameAsync(string name, SandboxClient? client, CancellationToken cancellationToken) =>
        (client ?? SandboxClient.Default).Sandboxes.FromNameAsync(AppName, name, cancellationToken: cancellationToken);

    /// <summary>Lists the running sandboxes of this definition's app carrying all of its tags and <paramref name="tags"/>, newest first.</summary>
    /// <param name="tags">More tags to filter by; they override the declared tags with the same key.</param>
    /// <param name="client">The client; <see cref="SandboxClient.Default"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    public async IAsyncEnumerable<Sandbox> ListAsync(IReadOnlyDictionary<string, string>? tags, SandboxClient? client, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        client ??= SandboxClient.Default;
        global::TypedSandbox.App app;
        try
        {
            app = await client.Apps.FromNameAsync(AppName, createIfMissing: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (NotFoundException)
        {
            yield break;
        }

        var filter = new Dictionary<string, string>(Tags.ToDictionary(), StringComparer.Ordinal);
        foreach (var (key, value) in tags ?? new Dictionary<string, string>())
        {
            filter[key] = value;
        }

        await foreach (var sandbox in client.Sandboxes.ListAsync(app.AppId, filter, cancellationToken).ConfigureAwait(false))
        {
            yield return sandbox;
        }
    }

    /// <summary>Terminates the sandbox and releases its connections.</summary>
    [SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "Generated code calls every operation on the class's definition.")]
    public ValueTask TerminateAsync(Sandbox sandbox)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        return sandbox.DisposeAsync();
    }

    /// <summary>The entrypoint as run: the same brace rules as a command, so "{{" and "}}" are literal braces.</summary>
    internal IReadOnlyList<string> RenderEntrypoint() =>
        CommandTemplate.Parse(Entrypoint.ToList()).Render(name => throw new InvalidArgumentException($"Entrypoint has placeholder '{{{name}}}'; an entrypoint has no parameters"));

    /// <summary>Parses a duration string that passed the timeout rule.</summary>
    internal static TimeSpan ParseDuration(string text, string kind) =>
        Durations.CheckTimeout(text, kind, out var value) is { } error ? throw new InvalidArgumentException(error) : value;

    private string? FindProblem()
    {
        var problems = SandboxRules.Check(new SandboxDeclaration
        {
            App = App,
            Name = Name,
            Timeout = TimeoutSetting.FromText(Timeout),
            IdleTimeout = TimeoutSetting.FromText(IdleTimeout),
            Workdir = Workdir,
            Cpu = Cpu,
            MemoryMb = MemoryMb,
            EncryptedPorts = EncryptedPorts,
            UnencryptedPorts = UnencryptedPorts,
            BlockNetwork = BlockNetwork,
            CidrAllowlist = CidrAllowlist,
            Volumes = [.. Volumes.Select(v => new VolumeDeclaration(v.MountPath, v.VolumeName))],
            Secrets = Secrets,
            SecretsFromEnvironment = [.. SecretsFromEnvironment.Select(s => s.Variables)],
            Tags = SandboxRules.TagsOf(Tags),
            Entrypoint = Entrypoint,
        });
        if (Image?.FindProblems() is { } imageProblems)
        {
            problems.AddRange(imageProblems);
        }

        return ProblemList.Describe(problems);
    }
}
