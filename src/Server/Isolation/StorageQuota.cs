using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// Size limits for everything a sandbox can write on the host: its overlay's upper and work directories and its volumes
/// live on one btrfs filesystem (a sparse image under the state directory, loop-mounted <c>nosuid,nodev</c>), each in
/// its own subvolume with a simple-quota limit, so a write past the limit fails with EDQUOT inside the sandbox and the
/// host's disk never fills. Creating a limited directory is two ioctls (~0.1 ms).
/// </summary>
/// <remarks>
/// Why btrfs and not ext4 project quotas: this kernel has no quota format for ext4 (CONFIG_QFMT_V2 is off) and XFS is
/// built without quota support; btrfs quota groups are built in. Subvolumes carry their limit themselves, so an engine
/// restart re-mounts the image and finds every limit where it left it: nothing is recorded elsewhere. Sandbox code
/// cannot make a subvolume of its own below a limited one (which would escape the limit): the seccomp profile refuses
/// btrfs ioctls (<see cref="SeccompProfile"/>), and overlayfs does not pass them on.
/// </remarks>
internal sealed partial class StorageQuota : IAsyncDisposable
{
    /// <summary>The default limit of a writable layer and of a volume: 4 GiB.</summary>
    public const long DefaultLimitBytes = 4L << 30;

    /// <summary>The smallest limit accepted: 1 MiB.</summary>
    public const long MinimumLimitBytes = 1L << 20;

    private const string ImageName = "writable.img";
    private const string MountName = "writable";
    private const string SetupHint = "run scripts/setup-host.sh as root";
    private const ulong BtrfsFirstFreeObjectId = 256;
    private const int ODirectory = 0x10000, OCloexec = 0x80000, EExist = 17, EInval = 22;
    private const ulong SubvolCreate = 0x5000940e;          // _IOW(0x94, 14, struct btrfs_ioctl_vol_args)
    private const ulong QuotaCtl = 0xc0109428;              // _IOWR(0x94, 40, struct btrfs_ioctl_quota_ctl_args)
    private const ulong QgroupLimit = 0x8030942b;           // _IOR(0x94, 43, struct btrfs_ioctl_qgroup_limit_args)
    private const ulong QuotaEnable = 1, QuotaEnableSimple = 4;
    private const ulong LimitMaxReferenced = 1, LimitMaxExclusive = 2;

    private readonly ILogger _logger;
    private int _disposed;

    private StorageQuota(string mountPoint, long totalBytes, ILogger logger)
    {
        MountPoint = mountPoint;
        TotalBytes = totalBytes;
        _logger = logger;
    }

    /// <summary>Where the limited filesystem is mounted.</summary>
    public string MountPoint { get; }

    /// <summary>The filesystem's size: no limit above it can bind.</summary>
    public long TotalBytes { get; }

    /// <summary>Parent of the sandboxes' writable layers (one subvolume per sandbox: <c>upper</c> and <c>work</c>).</summary>
    public string SandboxesDirectory => Path.Combine(MountPoint, "sandboxes");

    /// <summary>The writable-layer directory of sandbox <paramref name="id"/> (see <see cref="CreateLimitedDirectory"/>).</summary>
    public string SandboxDirectory(string id) => Path.Combine(SandboxesDirectory, id);

    /// <summary>Parent of the volumes (one subvolume per volume).</summary>
    public string VolumesDirectory => Path.Combine(MountPoint, "volumes");

    /// <summary>Parent of image builds' scratch directories (one subvolume per RUN step: its overlay's upper and work).</summary>
    public string BuildsDirectory => Path.Combine(MountPoint, "builds");

    /// <summary>
    /// Mounts the state directory's limited filesystem, creating it on first use (a sparse image of 90% of the free
    /// space, so it costs nothing until written), or adopts it when a previous engine run left it mounted.
    /// </summary>
    /// <exception cref="HostNotReadyException">btrfs tools, loop devices or root are missing; the message says the fix.</exception>
    public static async Task<StorageQuota> OpenAsync(string stateDirectory, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stateDirectory);
        ArgumentNullException.ThrowIfNull(logger);
        if (!OperatingSystem.IsLinux())
        {
            throw new HostNotReadyException("Sandboxes' size-limited storage needs Linux (btrfs quotas).");
        }

        var image = Path.Combine(stateDirectory, ImageName);
        var mountPoint = Path.Combine(stateDirectory, MountName);
        Directory.CreateDirectory(mountPoint, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (!IsMountPoint(mountPoint))
        {
            if (!File.Exists(image))
            {
                await CreateImageAsync(stateDirectory, image, cancellationToken).ConfigureAwait(false);
            }

            var mount = await HostCommand.RunAsync("mount",
                ["-t", "btrfs", "-o", "loop,nosuid,nodev,noatime,discard=async", image, mountPoint], cancellationToken).ConfigureAwait(false);
            if (!mount.Succeeded)
            {
                throw new HostNotReadyException($"Mounting the sandboxes' writable filesystem {image} at {mountPoint} failed: {mount.Stderr.Trim()} " +
                    "(needs root, loop devices and btrfs; remove the image to start afresh if it is damaged).");
            }
        }

        var quota = new StorageQuota(mountPoint, new DriveInfo(mountPoint).TotalSize, logger);
        try
        {
            quota.EnableQuotas();
            foreach (var dir in new[] { quota.SandboxesDirectory, quota.VolumesDirectory, quota.BuildsDirectory })
            {
                Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
        catch
        {
            await quota.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        StorageQuotaLog.Mounted(logger, mountPoint, quota.TotalBytes >> 20);
        return quota;
    }

    /// <summary>
    /// Makes <paramref name="path"/> (a child of <see cref="SandboxesDirectory"/>, <see cref="VolumesDirectory"/> or
    /// <see cref="BuildsDirectory"/>) a
    /// directory whose contents may take at most <paramref name="limitBytes"/>; an existing one keeps its data and
    /// gets the new limit.
    /// </summary>
    public void CreateLimitedDirectory(string path, long limitBytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(limitBytes, MinimumLimitBytes);
        var parent = Path.GetDirectoryName(path) ?? throw new ArgumentException($"'{path}' has no parent directory.", nameof(path));
        if (parent != SandboxesDirectory && parent != VolumesDirectory && parent != BuildsDirectory)
        {
            throw new ArgumentException($"'{path}' is not under {SandboxesDirectory}, {VolumesDirectory} or {BuildsDirectory}.", nameof(path));
        }

        var name = Encoding.UTF8.GetBytes(Path.GetFileName(path));
        if (name.Length is 0 or > 255)
        {
            throw new ArgumentException($"'{path}' has no usable name.", nameof(path));
        }

        using (var parentFd = Open(parent))
        {
            var args = new byte[4096];
            name.CopyTo(args, 8);
            if (Ioctl(parentFd.Fd, SubvolCreate, args) != 0 && Marshal.GetLastPInvokeError() is var errno && errno != EExist)
            {
                throw new IOException($"Creating the limited directory {path} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
            }
        }

        using var fd = Open(path);
        // A plain directory (not a subvolume) would put the limit on its parent: refuse it.
        if (InodeNumber(fd.Fd) != BtrfsFirstFreeObjectId)
        {
            throw new IOException($"{path} exists but is not a limited directory of its own; move its contents away and retry.");
        }

        var limit = new byte[48];
        BinaryPrimitives.WriteUInt64LittleEndian(limit.AsSpan(0), 0);  // qgroup 0 = the subvolume of this descriptor
        BinaryPrimitives.WriteUInt64LittleEndian(limit.AsSpan(8), LimitMaxReferenced | LimitMaxExclusive);
        BinaryPrimitives.WriteUInt64LittleEndian(limit.AsSpan(16), (ulong)limitBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(limit.AsSpan(24), (ulong)limitBytes);
        if (Ioctl(fd.Fd, QgroupLimit, limit) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"Setting the {limitBytes >> 20} MiB limit of {path} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
        }
    }

    /// <summary>
    /// Moves directories an engine without size limits kept in <paramref name="legacyDirectory"/> (volumes) into limited
    /// directories of their own under <paramref name="limitedParent"/>; contents larger than the limit keep their data
    /// and accept no more writes. Returns how many were moved.
    /// </summary>
    public async Task<int> AdoptLegacyDirectoriesAsync(string legacyDirectory, string limitedParent, long limitBytes, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(legacyDirectory))
        {
            return 0;
        }

        var moved = 0;
        foreach (var legacy in Directory.GetDirectories(legacyDirectory))
        {
            var target = Path.Combine(limitedParent, Path.GetFileName(legacy));
            if (Path.Exists(target))
            {
                continue;
            }

            CreateLimitedDirectory(target, TotalBytes);
            var copy = await HostCommand.RunAsync("cp", ["-a", "--", legacy + "/.", target], cancellationToken).ConfigureAwait(false);
            if (!copy.Succeeded)
            {
                await TreeRemoval.DeleteAsync(target, cancellationToken).ConfigureAwait(false);
                throw new IOException($"Moving {legacy} into the size-limited storage failed (cp exit code {copy.ExitCode}): {copy.Stderr.Trim()}");
            }
            CreateLimitedDirectory(target, limitBytes);
            await TreeRemoval.DeleteAsync(legacy, cancellationToken).ConfigureAwait(false);
            moved++;
        }
        return moved;
    }

    /// <summary>Unmounts the filesystem (its loop device goes with it); the image and its contents stay for the next run.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && !LinuxNative.Unmount(MountPoint))
        {
            IsolationLog.CleanupFailed(_logger, "umount " + MountPoint, "umount2 failed");
        }

        return ValueTask.CompletedTask;
    }

    private static async Task CreateImageAsync(string stateDirectory, string image, CancellationToken ct)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new HostNotReadyException("Sandboxes' size-limited storage needs Linux (btrfs quotas).");
        }

        if (HostCheck.FindExecutable("mkfs.btrfs") is null)
        {
            throw new HostNotReadyException($"'mkfs.btrfs' (the sandboxes' size-limited storage) was not found: apt-get install btrfs-progs ({SetupHint}).");
        }

        var free = new DriveInfo(stateDirectory).AvailableFreeSpace;
        var size = free / 10 * 9 / (1L << 20) * (1L << 20);
        if (size < 1L << 30)
        {
            throw new HostNotReadyException($"{stateDirectory} has {free >> 20} MiB free; sandboxes' writable storage needs at least 1.2 GiB.");
        }

        var partial = image + ".new";
        // Sparse: the image takes host space only as sandboxes write (and gives it back on delete: discard).
        using (var file = new FileStream(partial, new FileStreamOptions
               {
                   Mode = FileMode.Create, Access = FileAccess.Write,
                   UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
               }))
        {
            file.SetLength(size);
        }
        var mkfs = await HostCommand.RunAsync("mkfs.btrfs", ["-q", "-f", "-L", "typedsandbox", partial], ct).ConfigureAwait(false);
        if (!mkfs.Succeeded)
        {
            File.Delete(partial);
            throw new HostNotReadyException($"mkfs.btrfs failed on {partial} (exit code {mkfs.ExitCode}): {mkfs.Stderr.Trim()}");
        }
        File.Move(partial, image);
    }

    private void EnableQuotas()
    {
        using var fd = Open(MountPoint);
        // Simple quotas (kernel >= 6.7) charge each extent to the subvolume that wrote it, with no backref walks; full
        // quota groups are the fallback. Enabling what is already enabled succeeds.
        foreach (var mode in new[] { QuotaEnableSimple, QuotaEnable })
        {
            var args = new byte[16];
            BinaryPrimitives.WriteUInt64LittleEndian(args, mode);
            if (Ioctl(fd.Fd, QuotaCtl, args) == 0)
            {
                return;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != EInval || mode == QuotaEnable)
            {
                throw new HostNotReadyException($"Enabling btrfs quotas on {MountPoint} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
            }
        }
    }

    private static bool IsMountPoint(string path) =>
        File.ReadLines("/proc/self/mountinfo").Any(line => line.Split(' ') is { Length: > 4 } fields && Unescape(fields[4]) == path);

    private static string Unescape(string mountInfoPath) =>
        MountInfoEscape().Replace(mountInfoPath, m => ((char)Convert.ToInt32(m.Value[1..], 8)).ToString(CultureInfo.InvariantCulture));

    private static ulong InodeNumber(int fd)
    {
        var stat = new byte[144]; // struct stat on x86-64: st_dev, then st_ino
        if (Fstat(fd, stat) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"fstat failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
        }
        return BinaryPrimitives.ReadUInt64LittleEndian(stat.AsSpan(8));
    }

    private static Descriptor Open(string directory)
    {
        var fd = OpenSyscall(directory, ODirectory | OCloexec);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"Opening {directory} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
        }
        return new Descriptor(fd);
    }

    private readonly record struct Descriptor(int Fd) : IDisposable
    {
        public void Dispose() => _ = Close(Fd);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\\[0-7]{3}")]
    private static partial System.Text.RegularExpressions.Regex MountInfoEscape();

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenSyscall(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, ulong request, byte[] argument);

    [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
    private static partial int Fstat(int fd, byte[] buffer);
}

internal static partial class StorageQuotaLog
{
    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "Sandboxes' size-limited storage mounted at {MountPoint} ({SizeMiB} MiB)")]
    public static partial void Mounted(ILogger logger, string mountPoint, long sizeMiB);
}
