namespace TypedSandbox.Server.Images;

/// <summary>
/// How much one pull may write while it unpacks its layers: at most <see cref="MaxBytes"/> decompressed bytes in all,
/// and never so much that the store's file system falls below a free-space reserve (1 GiB, or a tenth of a smaller
/// file system). Counted on the decompressed tar stream, so a small compressed layer that inflates without end is
/// stopped at the bound, whatever its entries claim.
/// </summary>
internal sealed class UnpackBudget
{
    private const long MaxDiskCheckInterval = 32L * 1024 * 1024;
    private const long MaxReserveBytes = 1024L * 1024 * 1024;

    private readonly string _directory;
    private readonly string _image;
    private readonly long _diskCheckInterval;
    private long _nextDiskCheck;

    /// <summary>A budget for pulling <paramref name="image"/> into the file system holding <paramref name="directory"/>.</summary>
    public UnpackBudget(string directory, long maxBytes, string image)
    {
        _directory = directory;
        MaxBytes = maxBytes;
        _image = image;
        // Checking at least every half reserve: the file system never fills between two checks.
        _diskCheckInterval = Math.Clamp(FreeSpace().Reserve / 2, 1024 * 1024, MaxDiskCheckInterval);
    }

    /// <summary>The most the pull may unpack.</summary>
    public long MaxBytes { get; }

    /// <summary>Decompressed bytes unpacked so far.</summary>
    public long Used { get; private set; }

    /// <summary>Bytes the file system must keep free.</summary>
    public static long ReserveFor(DriveInfo drive) => Math.Min(MaxReserveBytes, drive.TotalSize / 10);

    /// <summary>Refuses a blob of <paramref name="size"/> bytes before it is downloaded when it cannot fit.</summary>
    public void EnsureRoomForDownload(string digest, long size)
    {
        if (size > MaxBytes - Used)
        {
            throw new ImageIntegrityException(
                $"Layer {digest} of '{_image}' is {size} bytes compressed, more than the {MaxBytes - Used} bytes left of the image size limit ({MaxBytes} bytes); the pull was stopped.");
        }

        var (free, reserve) = FreeSpace();
        if (size > free - reserve)
        {
            throw new ImageIntegrityException(
                $"Layer {digest} of '{_image}' is {size} bytes, but the image store's file system has {free} bytes free and keeps {reserve} in reserve; the pull was stopped.");
        }
    }

    /// <summary>Counts <paramref name="bytes"/> more decompressed bytes; throws when a bound is passed.</summary>
    public void Charge(int bytes)
    {
        Used += bytes;
        if (Used > MaxBytes)
        {
            throw new ImageIntegrityException(
                $"The layers of '{_image}' unpack to more than {MaxBytes} bytes, the image size limit; unpacking was stopped and the partial layer removed.");
        }

        if (Used >= _nextDiskCheck)
        {
            _nextDiskCheck = Used + _diskCheckInterval;
            var (free, reserve) = FreeSpace();
            if (free < reserve)
            {
                throw new ImageIntegrityException(
                    $"Unpacking '{_image}' stopped after {Used} bytes: the image store's file system has {free} bytes free, below its {reserve}-byte reserve; the partial layer was removed.");
            }
        }
    }

    /// <summary>Wraps a decompressed layer stream so that every byte read is charged.</summary>
    public Stream Wrap(Stream decompressed) => new ChargingStream(decompressed, this);

    private (long Free, long Reserve) FreeSpace()
    {
        var drive = new DriveInfo(_directory);
        return (drive.AvailableFreeSpace, ReserveFor(drive));
    }

    private sealed class ChargingStream(Stream inner, UnpackBudget budget) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer);
            budget.Charge(read);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            budget.Charge(read);
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
