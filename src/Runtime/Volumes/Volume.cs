namespace TypedSandbox;

/// <summary>A persistent volume that sandboxes can mount.</summary>
public sealed class Volume
{
    internal Volume(string id, string name, bool readOnly = false)
    {
        VolumeId = id;
        Name = name;
        IsReadOnly = readOnly;
    }

    /// <summary>The volume's id (<c>vo-…</c>).</summary>
    public string VolumeId { get; }

    /// <summary>The volume's name.</summary>
    public string Name { get; }

    /// <summary>Whether mounts of this handle are read-only.</summary>
    public bool IsReadOnly { get; }

    /// <summary>Returns a handle to the same volume that mounts read-only.</summary>
    public Volume AsReadOnly() => IsReadOnly ? this : new Volume(VolumeId, Name, readOnly: true);

    /// <inheritdoc/>
    public override string ToString() => $"Volume {Name} ({VolumeId}{(IsReadOnly ? ", read-only" : "")})";
}
