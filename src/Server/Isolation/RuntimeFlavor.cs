namespace TypedSandbox.Server.Isolation;

/// <summary>Which OCI runtime drives the bundles: the CLI spelling and a few limits differ.</summary>
internal enum RuntimeFlavor
{
    Crun,
    Runc,
    Runsc,
}

/// <summary>Command lines per runtime (facts from the runtime trial on this machine kind).</summary>
internal static class RuntimeCommands
{
    public static RuntimeFlavor FlavorOf(string runtime) => Path.GetFileName(runtime) switch
    {
        "crun" => RuntimeFlavor.Crun,
        "runc" => RuntimeFlavor.Runc,
        "runsc" => RuntimeFlavor.Runsc,
        var other => throw new ArgumentException($"Unknown OCI runtime '{other}'; use crun, runc or runsc.", nameof(runtime)),
    };

    /// <summary>
    /// With <paramref name="pidFile"/>, a detached run: the runtime writes the pid to follow there (crun: the init's;
    /// runsc: its sandbox process, the Sentry, which ends with the sandbox), hands its own stdio to the init and exits
    /// once the container runs. Without, a foreground run: the runtime stays the init's parent and exits with its status.
    /// </summary>
    public static IEnumerable<string> Run(RuntimeFlavor flavor, string root, string bundle, string id, bool hostNetwork, string? pidFile)
    {
        foreach (var a in Global(flavor, root, hostNetwork))
        {
            yield return a;
        }

        yield return "run";
        foreach (var a in Detach(pidFile))
        {
            yield return a;
        }

        yield return "--bundle";
        yield return bundle;
        yield return id;
    }

    /// <summary>
    /// True when a start leaves no runtime process behind: crun, and runsc for a sandbox of its own. A runsc
    /// subcontainer stays in the foreground: runsc's pid file names the Sentry, which outlives the subcontainer.
    /// </summary>
    public static bool Detaches(RuntimeFlavor flavor, bool subcontainer) =>
        flavor == RuntimeFlavor.Crun || (flavor == RuntimeFlavor.Runsc && !subcontainer);

    public static IEnumerable<string> Kill(RuntimeFlavor flavor, string root, string id)
    {
        foreach (var a in Global(flavor, root, hostNetwork: false))
        {
            yield return a;
        }

        yield return "kill";
        yield return id;
        yield return "KILL";
    }

    /// <summary>Freezes every process of the container (crun and runc: the cgroup freezer; runsc: stops its kernel).</summary>
    public static IEnumerable<string> Pause(RuntimeFlavor flavor, string root, string id)
    {
        foreach (var a in Global(flavor, root, hostNetwork: false))
        {
            yield return a;
        }

        yield return "pause";
        yield return id;
    }

    /// <summary>Thaws a paused container.</summary>
    public static IEnumerable<string> Resume(RuntimeFlavor flavor, string root, string id)
    {
        foreach (var a in Global(flavor, root, hostNetwork: false))
        {
            yield return a;
        }

        yield return "resume";
        yield return id;
    }

    /// <summary>runsc only: saves the sandbox's whole state (memory, processes, its tmpfs mounts) to <paramref name="imagePath"/>
    /// and stops it (this runsc's <c>--leave-running</c> destroys the container it was asked to keep).</summary>
    public static IEnumerable<string> Checkpoint(RuntimeFlavor flavor, string root, string id, string imagePath)
    {
        foreach (var a in Global(flavor, root, hostNetwork: false))
        {
            yield return a;
        }

        yield return "checkpoint";
        yield return "--image-path=" + imagePath;
        yield return id;
    }

    /// <summary>runsc only: a run (detached with <paramref name="pidFile"/>, see <see cref="Run"/>) that resumes a
    /// checkpoint instead of starting the bundle's process.</summary>
    public static IEnumerable<string> Restore(RuntimeFlavor flavor, string root, string bundle, string id, string imagePath, string? pidFile)
    {
        foreach (var a in Global(flavor, root, hostNetwork: false))
        {
            yield return a;
        }

        yield return "restore";
        yield return "--image-path=" + imagePath;
        foreach (var a in Detach(pidFile))
        {
            yield return a;
        }

        yield return "--bundle";
        yield return bundle;
        yield return id;
    }

    public static IEnumerable<string> Delete(RuntimeFlavor flavor, string root, string id)
    {
        foreach (var a in Global(flavor, root, hostNetwork: false))
        {
            yield return a;
        }

        yield return "delete";
        yield return flavor == RuntimeFlavor.Runsc ? "-force" : "--force";
        yield return id;
    }

    private static IEnumerable<string> Detach(string? pidFile) => pidFile is null ? [] : ["--detach", "--pid-file", pidFile];

    private static IEnumerable<string> Global(RuntimeFlavor flavor, string root, bool hostNetwork)
    {
        yield return "--root";
        yield return root;
        if (flavor == RuntimeFlavor.Runsc)
        {
            // --network=sandbox fails with this kernel; host networking inside a namespace the engine made works.
            yield return hostNetwork ? "--network=host" : "--network=none";
            // runsc ignores config.json's seccomp profile unless asked; then it enforces it inside its own kernel.
            yield return "--oci-seccomp";
            // Started inside the sandbox's user namespace, it cannot make cgroups: the engine made them.
            if (Path.GetFileName(root) == UserNamespaceLaunch.RuntimeRootName)
            {
                yield return "--ignore-cgroups";
            }
        }
    }
}
