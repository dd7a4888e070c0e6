namespace TypedSandbox;

/// <summary>A persistent volume that sandboxes can mount.</summary>
public sealed class Volume
{
    internal Volume(string id, string name, bool readOnly = false, string? subPath = null)
    {
        VolumeId = id;
        Name = name;
        IsReadOnly = readOnly;
        SubPath = subPath;
    }

    /// <summary>The volume's id (<c>vo-…</c>).</summary>
    public string VolumeId { get; }

    /// <summary>The volume's name.</summary>
    public string Name { get; }

    /// <summary>Whether mounts of this handle are read-only.</summary>
    public bool IsReadOnly { get; }

    /// <summary>The directory of the volume that mounts of this handle show (relative to its root); null = the whole volume.</summary>
    public string? SubPath { get; }

    /// <summary>Returns a handle to the same volume that mounts read-only.</summary>
    public Volume AsReadOnly() => IsReadOnly ? this : new Volume(VolumeId, Name, readOnly: true, SubPath);

    /// <summary>Returns a handle to the same volume that mounts only <paramref name="subPath"/> (Modal's <c>subPath</c> mount option).</summary>
    /// <param name="subPath">A directory of the volume, relative to its root; "/" mounts the whole volume again.</param>
    public Volume WithSubPath(string subPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(subPath);
        return new Volume(VolumeId, Name, IsReadOnly, subPath == "/" ? null : subPath);
    }

    /// <inheritdoc/>
    public override string ToString() => $"Volume {Name} ({VolumeId}{(IsReadOnly ? ", read-only" : "")})";
}
