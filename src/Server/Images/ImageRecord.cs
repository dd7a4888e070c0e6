namespace TypedSandbox.Server.Images;

/// <summary>A built image: its layers (ready to stack as overlayfs lower dirs) and its run configuration.</summary>
/// <param name="ImageId">The image ID, <c>im-</c> followed by a hash of the definition.</param>
/// <param name="LayerDirs">Absolute layer directories, top (newest) first, as overlayfs <c>lowerdir</c> wants them.</param>
/// <param name="Config">Environment, entrypoint, command, working directory and user.</param>
internal sealed record ImageRecord(string ImageId, IReadOnlyList<string> LayerDirs, ImageConfig Config);

/// <summary>How a container of the image runs by default (the OCI image config's <c>config</c> section).</summary>
/// <param name="Env">Environment as <c>NAME=value</c> entries.</param>
/// <param name="Entrypoint">Entrypoint argv, or <see langword="null"/>.</param>
/// <param name="Cmd">Command argv (arguments to the entrypoint), or <see langword="null"/>.</param>
/// <param name="WorkingDir">Working directory, or <see langword="null"/> for <c>/</c>.</param>
/// <param name="User">User (name, uid, or uid:gid), or <see langword="null"/> for root.</param>
internal sealed record ImageConfig(
    IReadOnlyList<string> Env,
    IReadOnlyList<string>? Entrypoint,
    IReadOnlyList<string>? Cmd,
    string? WorkingDir,
    string? User)
{
    /// <summary>An empty configuration (what <c>FROM scratch</c> starts with).</summary>
    public static ImageConfig Empty { get; } = new([], null, null, null, null);

    /// <summary>Returns a copy with <paramref name="name"/> set to <paramref name="value"/> (replacing an earlier value).</summary>
    public ImageConfig WithEnv(string name, string value)
    {
        var prefix = name + "=";
        var env = Env.Where(e => !e.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        env.Add(prefix + value);
        return this with { Env = env };
    }

    /// <summary>Looks up <paramref name="name"/> in <see cref="Env"/>.</summary>
    public string? GetEnv(string name)
    {
        var prefix = name + "=";
        var entry = Env.LastOrDefault(e => e.StartsWith(prefix, StringComparison.Ordinal));
        return entry?[prefix.Length..];
    }
}

/// <summary>Receives build progress lines (pull progress, step headers, <c>RUN</c> output); the engine streams them to the client.</summary>
internal interface IImageBuildLog
{
    /// <summary>Appends one line (no trailing newline).</summary>
    void Write(string line);
}
