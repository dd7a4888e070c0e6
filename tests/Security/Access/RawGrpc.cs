using System.Net;
using System.Net.Http.Headers;

namespace TypedSandbox.Security.Tests.Access;

/// <summary>A hand-made gRPC call over plaintext HTTP/2: any path spelling, any headers, an empty request message.</summary>
internal static class RawGrpc
{
    /// <summary>Posts one empty message to <paramref name="path"/> and returns the call's <c>grpc-status</c>.</summary>
    public static async Task<int> CallAsync(Uri server, string path, IReadOnlyDictionary<string, string>? headers = null)
    {
        using var http = new HttpClient(new SocketsHttpHandler()) { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server, path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            // One uncompressed gRPC frame holding an empty protobuf message (valid for every request type).
            Content = new ByteArrayContent(new byte[5]),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await response.Content.CopyToAsync(Stream.Null);
        var status = response.TrailingHeaders.TryGetValues("grpc-status", out var trailer) ? trailer
            : response.Headers.TryGetValues("grpc-status", out var header) ? header
            : throw new InvalidOperationException($"{path} answered HTTP {(int)response.StatusCode} without a grpc-status.");
        return int.Parse(status.Single(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
