using System;
using System.Collections.Generic;

namespace TypedSandbox.Validation;

/// <summary>Rules for paths inside a sandbox: mount paths and working directories.</summary>
internal static class Paths
{
    /// <summary>The directory of the engine's agent inside every sandbox (its PID 1 runs from there).</summary>
    public const string AgentDirectory = "/.typedsandbox";

    /// <summary>Directories the runtime and the engine own inside a sandbox: nothing may be mounted at or below them.</summary>
    private static readonly string[] Reserved = { AgentDirectory, "/proc", "/sys", "/dev" };

    /// <summary>
    /// Checks a mount path: absolute, canonical (no empty, '.' or '..' segments, no trailing '/'), not '/', and not
    /// at or below a directory the sandbox's runtime owns (the agent's directory, /proc, /sys, /dev).
    /// </summary>
    /// <returns><see langword="null"/> when valid, otherwise what is wrong and what is allowed.</returns>
    public static string? CheckMountPath(string? path)
    {
        if (path is null || path.Length == 0)
        {
            return "Mount path is empty; use an absolute path such as '/data'";
        }

        if (path[0] != '/')
        {
            return $"Mount path '{path}' is not absolute; use an absolute path such as '/{path.TrimStart('.', '/')}'";
        }

        var canonical = Canonicalize(path);
        if (canonical == "/")
        {
            return $"Mount path '{path}' is the root directory; mount at a directory below it such as '/data'";
        }

        if (!string.Equals(canonical, path, StringComparison.Ordinal))
        {
            return $"Mount path '{path}' is not canonical; write it as '{canonical}'";
        }

        foreach (var c in path)
        {
            if (char.IsControl(c))
            {
                return $"Mount path '{path}' contains {Text.Describe(c)}; use printable characters";
            }
        }

        foreach (var reserved in Reserved)
        {
            if (string.Equals(path, reserved, StringComparison.Ordinal) || path.StartsWith(reserved + "/", StringComparison.Ordinal))
            {
                return $"Mount path '{path}' is at or below '{reserved}', which the sandbox's runtime owns; mount outside {string.Join(", ", Reserved)} (such as '/data')";
            }
        }

        return null;
    }

    /// <summary>Checks a working directory: absolute.</summary>
    /// <param name="path">The directory.</param>
    /// <param name="kind">What the directory is, capitalised, for the message: "Workdir", "Image workdir"…</param>
    /// <returns><see langword="null"/> when valid, otherwise what is wrong and what is allowed.</returns>
    public static string? CheckWorkdir(string? path, string kind)
    {
        if (path is null || path.Length == 0)
        {
            return $"{kind} is empty; use an absolute path such as '/app'";
        }

        return path[0] == '/' ? null : $"{kind} '{path}' is not absolute; use an absolute path such as '/{path.TrimStart('.', '/')}'";
    }

    /// <summary>Resolves '.', '..', repeated and trailing slashes of an absolute path ("/a//b/../c/" → "/a/c").</summary>
    public static string Canonicalize(string absolutePath)
    {
        var segments = new List<string>();
        foreach (var segment in absolutePath.Split('/'))
        {
            if (segment.Length == 0 || segment == ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (segments.Count > 0)
                {
                    segments.RemoveAt(segments.Count - 1);
                }

                continue;
            }

            segments.Add(segment);
        }

        return "/" + string.Join("/", segments);
    }
}
