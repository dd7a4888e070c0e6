namespace TypedSandbox.Dsl;

/// <summary>What <c>[Volume]</c> declares: a named volume mounted at a path.</summary>
/// <param name="MountPath">Where the volume appears inside the sandbox.</param>
/// <param name="VolumeName">The volume's name; created when missing.</param>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed record VolumeMount(string MountPath, string VolumeName)
{
    /// <summary>Mounts the volume read-only.</summary>
    public bool ReadOnly { get; init; }
}
