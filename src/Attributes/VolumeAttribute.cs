using System;

namespace TypedSandbox;

/// <summary>Mounts a named volume (created when missing) into the sandbox.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class VolumeAttribute : Attribute
{
    /// <summary>Mounts <paramref name="volumeName"/> at <paramref name="mountPath"/>.</summary>
    /// <param name="mountPath">An absolute, canonical path other than <c>/</c>, for example <c>"/data"</c>.</param>
    /// <param name="volumeName">The volume's name: letters, digits, '-', '_' and '.', at most 63 characters.</param>
    public VolumeAttribute(string mountPath, string volumeName)
    {
        MountPath = mountPath;
        VolumeName = volumeName;
    }

    /// <summary>Where the volume appears inside the sandbox.</summary>
    public string MountPath { get; }

    /// <summary>The volume's name.</summary>
    public string VolumeName { get; }

    /// <summary>Mounts the volume read-only.</summary>
    public bool ReadOnly { get; set; }
}
