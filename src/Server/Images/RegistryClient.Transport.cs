using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace TypedSandbox.Server.Images;

/// <summary>The registry client's requests: redirects checked against the address policy, token authentication.</summary>
internal sealed partial class RegistryClient
{
    /// <summary>Sends a GET, following redirects and answering one Bearer challenge with an anonymous token.</summary>
    private async Task<HttpResponseMessage> SendAsync(RegistrySource source, ImageReference reference, Uri uri, string? accept, CancellationToken cancellationToken)
    {
        var tokenKey = source.BaseUri + source.Repository;
        for (var attempt = 0; ; attempt++)
        {
            _tokens.TryGetValue(tokenKey, out var token);
            var response = await SendFollowingRedirectsAsync(source, reference, uri, accept, token, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Forbidden)
            {
                response.Dispose();
                throw new ImageRegistryUnauthorizedException(reference.ToString(), $"Access to image '{reference}' was denied by {source} (403 Forbidden).");
            }

            if (response.StatusCode != HttpStatusCode.Unauthorized)
            {
                return response;
            }

            var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
            response.Dispose();
            if (attempt > 0 || challenge is null || !string.Equals(challenge.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase))
            {
                var what = challenge is null ? "401 without a challenge" : $"{challenge.Scheme} authentication";
                throw new ImageRegistryUnauthorizedException(reference.ToString(),
                    $"Image '{reference}' needs credentials on {source} ({what}); only anonymous pulls are supported.");
            }

            _tokens[tokenKey] = await FetchTokenAsync(source, reference, challenge.Parameter ?? "", cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<HttpResponseMessage> SendFollowingRedirectsAsync(
        RegistrySource source, ImageReference reference, Uri uri, string? accept, string? bearerToken, CancellationToken cancellationToken)
    {
        var current = uri;
        for (var hop = 0; hop <= MaxRedirects; hop++)
        {
            EnsureTransportAllowed(current, source, reference);
            using var request = new HttpRequestMessage(HttpMethod.Get, current);
            if (accept is not null)
            {
                request.Headers.TryAddWithoutValidation("Accept", accept);
            }

            // The token is for the registry only, never for the storage a blob redirect points at.
            if (bearerToken is not null && current.Authority == uri.Authority)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearerToken);
            }

            request.Options.Set(SourceOption, source);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (e.InnerException is RegistryAddressRefusedException refused)
            {
                throw new ImageRegistryUnavailableException(RefusedAddressMessage($"{refused.Endpoint} ({refused.Address})", source, reference), e);
            }
            catch (HttpRequestException e)
            {
                throw new ImageRegistryUnavailableException($"Could not reach {source} for image '{reference}': {e.Message}", e);
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ImageRegistryUnavailableException($"{source} did not answer in time for image '{reference}'.", e);
            }

            if ((int)response.StatusCode is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
            {
                response.Dispose();
                current = location.IsAbsoluteUri ? location : new Uri(current, location);
                continue;
            }

            return response;
        }

        throw new ImageRegistryUnavailableException($"{source} redirected more than {MaxRedirects} times for image '{reference}'.");
    }

    private void EnsureTransportAllowed(Uri uri, RegistrySource source, ImageReference reference)
    {
        // A pooled connection skips the connect-time check: literal addresses and localhost are judged here as well.
        var host = uri.Host.Trim('[', ']');
        var literal = string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback : IPAddress.TryParse(host, out var parsed) ? parsed : null;
        if (literal is not null && !_policy.Allows(literal, IsConfiguredEndpoint(source, uri.Host, uri.Port)))
        {
            throw new ImageRegistryUnavailableException(RefusedAddressMessage(uri.Authority, source, reference));
        }

        if (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && ImageReference.IsLoopbackHost(uri.Host)))
        {
            return;
        }

        throw new ImageRegistryUnavailableException(
            $"Refusing {uri.Scheme}://{uri.Authority} for image '{reference}' (via {source}): plain HTTP is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1).");
    }

    private async Task<string> FetchTokenAsync(RegistrySource source, ImageReference reference, string challenge, CancellationToken cancellationToken)
    {
        var parameters = ParseChallenge(challenge);
        if (!parameters.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri))
        {
            throw new ImageRegistryUnauthorizedException(reference.ToString(), $"{source} sent a Bearer challenge without a usable realm.");
        }

        var query = new StringBuilder();
        if (parameters.TryGetValue("service", out var service))
        {
            query.Append("service=").Append(Uri.EscapeDataString(service)).Append('&');
        }

        var scope = parameters.TryGetValue("scope", out var s) ? s : $"repository:{source.Repository}:pull";
        query.Append("scope=").Append(Uri.EscapeDataString(scope));
        var tokenUri = new UriBuilder(realmUri) { Query = query.ToString() }.Uri;

        using var response = await SendFollowingRedirectsAsync(source, reference, tokenUri, "application/json", bearerToken: null, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new ImageRegistryUnauthorizedException(reference.ToString(),
                $"The token service of {source} refused anonymous access to '{reference}' ({(int)response.StatusCode}).");
        }

        EnsureSuccess(response, source, reference);
        var body = await ReadLimitedAsync(response, MaxTokenResponseBytes, $"The token service answer of {source}", cancellationToken).ConfigureAwait(false);
        TokenResponse? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize<TokenResponse>(body);
        }
        catch (JsonException e)
        {
            throw new ImageRegistryUnavailableException($"The token service of {source} answered with invalid JSON ({JsonPosition(e)}).", e);
        }

        return parsed?.Token ?? parsed?.AccessToken
            ?? throw new ImageRegistryUnavailableException($"The token service of {source} answered without a token.");
    }

    /// <summary>Parses a challenge's parameters: <c>realm="…",service="…",scope="…"</c>.</summary>
    internal static Dictionary<string, string> ParseChallenge(string parameter)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        while (i < parameter.Length)
        {
            while (i < parameter.Length && (parameter[i] == ',' || char.IsWhiteSpace(parameter[i])))
            {
                i++;
            }

            var eq = parameter.IndexOf('=', i);
            if (eq < 0)
            {
                break;
            }

            var key = parameter[i..eq].Trim();
            i = eq + 1;
            var value = new StringBuilder();
            if (i < parameter.Length && parameter[i] == '"')
            {
                i++;
                while (i < parameter.Length && parameter[i] != '"')
                {
                    if (parameter[i] == '\\' && i + 1 < parameter.Length)
                    {
                        i++;
                    }

                    value.Append(parameter[i++]);
                }

                i++;
            }
            else
            {
                while (i < parameter.Length && parameter[i] != ',')
                {
                    value.Append(parameter[i++]);
                }
            }

            result[key] = value.ToString().Trim();
        }

        return result;
    }

    /// <summary>Opens every registry connection: resolves the name and connects only to an address the policy allows.</summary>
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var configured = context.InitialRequestMessage.Options.TryGetValue(SourceOption, out var source)
                         && IsConfiguredEndpoint(source, endpoint.Host, endpoint.Port);
        var host = endpoint.Host.Trim('[', ']');
        var addresses = IPAddress.TryParse(host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        IPAddress? refused = null;
        SocketException? failure = null;
        foreach (var address in addresses)
        {
            if (!_policy.Allows(address, configured))
            {
                refused ??= address;
                continue;
            }

            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(address, endpoint.Port, cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                failure = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        if (failure is null && refused is not null)
        {
            throw new RegistryAddressRefusedException($"{host}:{endpoint.Port}", refused);
        }

        throw failure ?? new SocketException((int)SocketError.HostNotFound);
    }
}
