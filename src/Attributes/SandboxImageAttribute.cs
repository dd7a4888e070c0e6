using System;

namespace TypedSandbox;

/// <summary>
/// The image a typed sandbox runs: a registry reference (<c>"python:3.13-slim"</c>) or, with the parameterless
/// constructor, a Debian base (<see cref="DebianSuite"/>), followed by optional build steps applied in the order
/// <see cref="Env"/>, <see cref="AptInstall"/>, <see cref="PipInstall"/>, <see cref="RunCommands"/>, <see cref="Workdir"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class SandboxImageAttribute : Attribute
{
    /// <summary>Uses a Debian slim base image (<c>debian:&lt;suite&gt;-slim</c>).</summary>
    public SandboxImageAttribute()
    {
    }

    /// <summary>Uses an image from a registry, for example <c>"python:3.13-slim"</c> or <c>"ghcr.io/org/tool:1.2"</c>.</summary>
    /// <param name="reference">The image reference: <c>[registry/]repository[:tag][@digest]</c>.</param>
    public SandboxImageAttribute(string reference)
    {
        Reference = reference;
    }

    /// <summary>The registry reference, or <see langword="null"/> for a Debian base.</summary>
    public string? Reference { get; }

    /// <summary>The Debian suite of the base image when no reference is given. Defaults to <c>"bookworm"</c>.</summary>
    public string? DebianSuite { get; set; }

    /// <summary>Environment variables of the image, each <c>"KEY=VALUE"</c>.</summary>
    public string[]? Env { get; set; }

    /// <summary>Debian packages installed with apt-get.</summary>
    public string[]? AptInstall { get; set; }

    /// <summary>Python packages installed with pip.</summary>
    public string[]? PipInstall { get; set; }

    /// <summary>Shell commands run while building the image, each one a layer.</summary>
    public string[]? RunCommands { get; set; }

    /// <summary>The absolute working directory of the image.</summary>
    public string? Workdir { get; set; }
}
