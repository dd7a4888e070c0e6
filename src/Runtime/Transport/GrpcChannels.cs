using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace TypedSandbox.Transport;

/// <summary>Creates gRPC channels with the options Modal's SDKs use (large messages, keepalive pings).</summary>
internal static class GrpcChannels
{
    private const int MaxMessageBytes = 100 * 1024 * 1024;

    /// <summary>A channel to <paramref name="address"/>: <c>http://</c> speaks plaintext HTTP/2 (h2c), <c>https://</c> TLS.</summary>
    /// <param name="address">The server address.</param>
    /// <param name="loggerFactory">Logs of the channel.</param>
    /// <param name="wrapHandler">Wraps the HTTP handler (a seam for tests that inject network faults).</param>
    /// <param name="trustedAuthorities">For https: the only CAs the server's certificate may chain to; null = the system store.</param>
    public static GrpcChannel Create(Uri address, ILoggerFactory loggerFactory, Func<HttpMessageHandler, HttpMessageHandler>? wrapHandler = null,
        X509Certificate2Collection? trustedAuthorities = null)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            InitialHttp2StreamWindowSize = 16 * 1024 * 1024,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        if (trustedAuthorities is not null)
        {
            // Custom root trust: the chain must end at one of these CAs; the host name is still checked by TLS.
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(trustedAuthorities);
            handler.SslOptions.CertificateChainPolicy = policy;
        }

        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = wrapHandler is null ? handler : wrapHandler(handler),
            DisposeHttpClient = true,
            MaxReceiveMessageSize = MaxMessageBytes,
            MaxSendMessageSize = MaxMessageBytes,
            LoggerFactory = loggerFactory,
        });
    }

    /// <summary>
    /// The address to dial for a command router URL. Modal's rule: the URL must be <c>https://</c>; it is dialled
    /// without TLS (plaintext HTTP/2) when the control plane itself is on a loopback host.
    /// </summary>
    /// <exception cref="ProtocolException">The URL the server handed out is not an https URL.</exception>
    public static Uri CommandRouterAddress(string routerUrl, bool controlPlaneIsLoopback)
    {
        if (!Uri.TryCreate(routerUrl, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttps)
        {
            throw new ProtocolException($"Task router URL must be https, got: {routerUrl}");
        }
        var port = url.IsDefaultPort ? 443 : url.Port;
        return new UriBuilder(controlPlaneIsLoopback ? Uri.UriSchemeHttp : Uri.UriSchemeHttps, url.Host, port).Uri;
    }
}
