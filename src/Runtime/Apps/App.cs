namespace TypedSandbox;

/// <summary>An app: the namespace sandboxes, images and names live in.</summary>
public sealed class App
{
    internal App(string id, string name, string environment)
    {
        AppId = id;
        Name = name;
        Environment = environment;
    }

    /// <summary>The app's id (<c>ap-…</c>).</summary>
    public string AppId { get; }

    /// <summary>The app's name.</summary>
    public string Name { get; }

    /// <summary>The environment the app lives in ("" = the server's default).</summary>
    public string Environment { get; }

    /// <inheritdoc/>
    public override string ToString() => $"App {Name} ({AppId})";
}
