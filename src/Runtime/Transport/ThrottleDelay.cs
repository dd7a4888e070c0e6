using Google.Protobuf;
using Grpc.Core;

namespace TypedSandbox.Transport;

/// <summary>The server's request to slow down, carried in a failed call's status details.</summary>
internal static class ThrottleDelay
{
    private const string StatusDetailsTrailer = "grpc-status-details-bin";

    /// <summary>
    /// Reads a server throttle request: <c>modal.client.RPCStatus</c> in the status-details trailer carrying an
    /// <c>Any</c> of type <c>modal.client.RPCRetryPolicy</c>; returns max(retry_after_secs, 100 ms).
    /// </summary>
    public static TimeSpan? Read(RpcException failure)
    {
        var details = failure.Trailers?.GetValueBytes(StatusDetailsTrailer);
        if (details is null || details.Length == 0)
        {
            return null;
        }
        try
        {
            var status = new CodedInputStream(details);
            uint tag;
            while ((tag = status.ReadTag()) != 0)
            {
                if (WireFormat.GetTagFieldNumber(tag) != 3 || WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
                {
                    status.SkipLastField();
                    continue;
                }
                var any = new CodedInputStream(status.ReadBytes().ToByteArray());
                string typeUrl = "";
                ByteString value = ByteString.Empty;
                uint anyTag;
                while ((anyTag = any.ReadTag()) != 0)
                {
                    switch (WireFormat.GetTagFieldNumber(anyTag))
                    {
                        case 1: typeUrl = any.ReadString(); break;
                        case 2: value = any.ReadBytes(); break;
                        default: any.SkipLastField(); break;
                    }
                }
                if (!typeUrl.EndsWith("/modal.client.RPCRetryPolicy", StringComparison.Ordinal))
                {
                    continue;
                }
                float seconds = 0;
                var policy = new CodedInputStream(value.ToByteArray());
                uint policyTag;
                while ((policyTag = policy.ReadTag()) != 0)
                {
                    if (WireFormat.GetTagFieldNumber(policyTag) == 1 && WireFormat.GetTagWireType(policyTag) == WireFormat.WireType.Fixed32)
                    {
                        seconds = policy.ReadFloat();
                    }
                    else
                    {
                        policy.SkipLastField();
                    }
                }
                return TimeSpan.FromMilliseconds(Math.Max(seconds * 1000.0, 100.0));
            }
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
        return null;
    }
}
