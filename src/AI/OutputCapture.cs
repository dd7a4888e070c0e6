using System.Text;

namespace TypedSandbox.AI;

/// <summary>Reads a stream to its end keeping at most a budget of bytes: its first half and its last half.</summary>
internal sealed class OutputCapture(int budget)
{
    private readonly byte[] _head = new byte[Math.Max(budget / 2, 0)];
    private int _headLength;
    private readonly byte[] _tail = new byte[Math.Max(budget - budget / 2, 0)];
    private int _tailStart;
    private int _tailLength;
    private long _total;

    public static async Task<string> ReadAsync(Stream stream, int budget, CancellationToken cancellationToken)
    {
        var capture = new OutputCapture(budget);
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            capture.Add(buffer.AsSpan(0, read));
        }
        return capture.ToString();
    }

    private void Add(ReadOnlySpan<byte> data)
    {
        _total += data.Length;
        var headRoom = Math.Min(_head.Length - _headLength, data.Length);
        if (headRoom > 0)
        {
            data[..headRoom].CopyTo(_head.AsSpan(_headLength));
            _headLength += headRoom;
            data = data[headRoom..];
        }
        foreach (var b in data)
        {
            if (_tail.Length == 0)
            {
                return;
            }
            // A ring of the last bytes seen.
            _tail[(_tailStart + _tailLength) % _tail.Length] = b;
            if (_tailLength < _tail.Length)
            {
                _tailLength++;
            }
            else
            {
                _tailStart = (_tailStart + 1) % _tail.Length;
            }
        }
    }

    public override string ToString()
    {
        var tail = new byte[_tailLength];
        for (var i = 0; i < _tailLength; i++)
        {
            tail[i] = _tail[(_tailStart + i) % _tail.Length];
        }
        var head = Encoding.UTF8.GetString(_head, 0, _headLength);
        var omitted = _total - _headLength - _tailLength;
        return omitted > 0
            ? $"{head}\n[... {omitted} bytes omitted ...]\n{Encoding.UTF8.GetString(tail)}"
            : head + Encoding.UTF8.GetString(tail);
    }
}
