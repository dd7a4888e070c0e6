using TypedSandbox.Protocol.CommandRouter;

namespace TypedSandbox;

/// <summary>
/// The sidecar containers of one sandbox (Modal's <c>SidecarService</c>): each runs another image with its own
/// filesystem, processes and lifetime in the sandbox's network, so it and the main container reach each other on
/// 127.0.0.1. Terminating the sandbox ends its sidecars.
/// </summary>
public sealed class SandboxSidecars
{
    /// <summary>The name of the sandbox's own container, which no sidecar may take.</summary>
    public const string MainContainerName = "main";

    private readonly Sandbox _sandbox;

    internal SandboxSidecars(Sandbox sandbox) => _sandbox = sandbox;

    /// <summary>Starts a sidecar named <paramref name="name"/> from <paramref name="image"/>; returns once it runs.</summary>
    /// <param name="name">Unique among the sandbox's running sidecars; not <c>main</c>.</param>
    /// <param name="image">A built image (<see cref="Image.BuildAsync"/> or <see cref="ImageService.FromIdAsync"/>).</param>
    /// <param name="options">Command, environment, working directory and memory; defaults apply when null.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="InvalidOperationException"><paramref name="image"/> has not been built.</exception>
    /// <exception cref="InvalidArgumentException">The name or an option breaks a rule.</exception>
    /// <exception cref="AlreadyExistsException">A running sidecar of the sandbox has the name.</exception>
    /// <exception cref="ResourceExhaustedException">The sandbox runs as many sidecars as it may.</exception>
    /// <exception cref="ConflictException">The sandbox has finished, or its runtime (gVisor) takes no sidecars.</exception>
    public async Task<SidecarContainer> CreateAsync(string name, Image image, SidecarCreateOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        ArgumentNullException.ThrowIfNull(image);
        var imageId = image.ImageId ?? throw new InvalidOperationException("A sidecar's image must be built first: call image.BuildAsync(app).");
        options ??= new SidecarCreateOptions();
        var request = new TaskContainerCreateRequest
        {
            TaskId = await TaskIdAsync(cancellationToken).ConfigureAwait(false),
            ContainerName = name,
            ImageId = imageId,
            Workdir = options.Workdir ?? "",
        };
        request.Args.AddRange(options.Command);
        foreach (var (key, value) in options.Env)
        {
            request.Env[key] = value;
        }
        if (options.MemoryMb is { } memory)
        {
            request.MemoryReserveConsumeMib = memory > 0 ? (uint)memory : throw new InvalidArgumentException($"A sidecar's memory must be a positive number of MiB, got {memory}.");
        }

        var response = await _sandbox.Connection.Router.CallAsync("TaskContainerCreate", static (c, r, o) => c.TaskContainerCreateAsync(r, o), request, cancellationToken)
            .ConfigureAwait(false);
        return new SidecarContainer(_sandbox, response.ContainerId, response.ContainerName.Length > 0 ? response.ContainerName : name, null);
    }

    /// <summary>The sidecar named <paramref name="name"/>.</summary>
    /// <param name="name">Its name.</param>
    /// <param name="includeTerminated">Also find one that has ended.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="NotFoundException">No (running) sidecar has this name.</exception>
    public async Task<SidecarContainer> GetAsync(string name, bool includeTerminated = false, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        var request = new TaskContainerGetRequest
        {
            TaskId = await TaskIdAsync(cancellationToken).ConfigureAwait(false),
            ContainerName = name,
            IncludeTerminated = includeTerminated,
        };
        var response = await _sandbox.Connection.Router.CallAsync("TaskContainerGet", static (c, r, o) => c.TaskContainerGetAsync(r, o), request, cancellationToken)
            .ConfigureAwait(false);
        return From(response.Container ?? throw new ProtocolException($"The server returned no container for sidecar '{name}'."));
    }

    /// <summary>The sandbox's sidecars in creation order (not its main container).</summary>
    /// <param name="includeTerminated">Also list those that have ended.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IReadOnlyList<SidecarContainer>> ListAsync(bool includeTerminated = false, CancellationToken cancellationToken = default)
    {
        var request = new TaskContainerListRequest { TaskId = await TaskIdAsync(cancellationToken).ConfigureAwait(false), IncludeTerminated = includeTerminated };
        var response = await _sandbox.Connection.Router.CallAsync("TaskContainerList", static (c, r, o) => c.TaskContainerListAsync(r, o), request, cancellationToken)
            .ConfigureAwait(false);
        return [.. response.Containers.Where(c => c.ContainerName != MainContainerName).Select(From)];
    }

    private SidecarContainer From(TaskContainerInfo info) => new(_sandbox, info.ContainerId, info.ContainerName, info.Result);

    private Task<string> TaskIdAsync(CancellationToken cancellationToken) => _sandbox.Connection.GetTaskIdAsync(cancellationToken);

    private static void ValidateName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0)
        {
            throw new InvalidArgumentException("A sidecar's name must not be empty.");
        }

        if (name == MainContainerName)
        {
            throw new InvalidArgumentException($"The name '{MainContainerName}' is reserved for the sandbox's main container; use the sandbox's own methods for it.");
        }
    }
}
