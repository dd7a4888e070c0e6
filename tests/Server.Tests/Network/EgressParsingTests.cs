using System.Buffers.Binary;
using System.Text;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Network;

namespace TypedSandbox.Server.Tests.Network;

/// <summary>The egress proxy's pure parts: domain patterns, SNI and Host parsing under hostile input, header rewriting.</summary>
public sealed class EgressParsingTests
{
    [Theory]
    [InlineData("example.com", "example.com", true)]
    [InlineData("example.com", "EXAMPLE.com.", true)]
    [InlineData("example.com", "api.example.com", false)]
    [InlineData("example.com", "badexample.com", false)]
    [InlineData("*.example.com", "example.com", true)]
    [InlineData("*.example.com", "a.b.example.com", true)]
    [InlineData("*.example.com", "badexample.com", false)]
    [InlineData("*.example.com", "example.com.evil.test", false)]
    [InlineData("*", "anything.test", true)]
    [InlineData("*", "10.0.0.1", false)]
    [InlineData("example.com", "93.184.216.34", false)]
    public void Domain_patterns_match_names_as_the_sdk_documents(string pattern, string host, bool matches)
    {
        Assert.Equal(matches, DomainPattern.TryParse(pattern)!.Matches(host));
    }

    [Theory]
    [InlineData("")]
    [InlineData("*.")]
    [InlineData("a..b")]
    [InlineData("*.*.example.com")]
    [InlineData("foo*.example.com")]
    [InlineData("10.0.0.1")]
    [InlineData("exa mple.com")]
    [InlineData("-bad.example.com")]
    public void Entries_that_are_not_names_are_refused(string pattern)
    {
        Assert.Null(DomainPattern.TryParse(pattern));
        Assert.Equal(EngineErrorKind.InvalidArgument, Assert.Throws<EngineException>(() => EgressRules.ParseDomain(pattern)).Kind);
    }

    [Fact]
    public void The_server_name_is_read_from_a_client_hello()
    {
        Assert.Equal(new Preface(PrefaceStatus.Complete, "allowed.test"), TlsClientHello.Read(ClientHelloBytes.Build("Allowed.Test", paddingBytes: 300)));
        Assert.Equal(new Preface(PrefaceStatus.Complete, null), TlsClientHello.Read(ClientHelloBytes.Build(null)));
        Assert.Equal(new Preface(PrefaceStatus.Complete, null), TlsClientHello.Read(ClientHelloBytes.Build("10.1.2.3")));
    }

    [Fact]
    public void A_truncated_client_hello_never_yields_a_name()
    {
        var hello = ClientHelloBytes.Build("allowed.test", paddingBytes: 100);
        for (var length = 0; length < hello.Length; length++)
        {
            Assert.Equal(PrefaceStatus.NeedMore, TlsClientHello.Read(hello.AsSpan(0, length)).Status);
        }
    }

    [Fact]
    public void Lengths_that_lie_about_what_encloses_them_are_refused()
    {
        var hello = ClientHelloBytes.Build("allowed.test");
        var oversizedRecord = (byte[])hello.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(oversizedRecord.AsSpan(3), TlsClientHello.MaxRecordLength + 1);
        var longHandshake = (byte[])hello.Clone();
        longHandshake[6] = 0xff;
        var notHandshake = (byte[])hello.Clone();
        notHandshake[0] = 0x17;

        Assert.Equal(PrefaceStatus.Invalid, TlsClientHello.Read(oversizedRecord).Status);
        Assert.Equal(PrefaceStatus.Invalid, TlsClientHello.Read(longHandshake).Status);
        Assert.Equal(PrefaceStatus.Invalid, TlsClientHello.Read(notHandshake).Status);
        Assert.Equal(PrefaceStatus.Invalid, TlsClientHello.Read("GET / HTTP/1.1\r\n"u8).Status);
        // Every single byte of the extensions' lengths raised: each is refused or reads within bounds, never throws.
        for (var i = 5; i < hello.Length; i++)
        {
            var bent = (byte[])hello.Clone();
            bent[i] = 0xff;
            var preface = TlsClientHello.Read(bent);
            Assert.True(preface.Status != PrefaceStatus.Complete || preface.Host is null or "allowed.test", $"byte {i}: {preface}");
        }
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        var random = new Random(12);
        var data = new byte[2048];
        for (var i = 0; i < 2000; i++)
        {
            random.NextBytes(data);
            data[0] = 0x16;
            data[1] = 3;
            _ = TlsClientHello.Read(data.AsSpan(0, random.Next(data.Length)));
            _ = HttpRequestHead.Read(data.AsSpan(0, random.Next(data.Length)), out _);
        }
    }

    [Fact]
    public void The_host_of_a_request_head_is_read_without_its_port()
    {
        var status = HttpRequestHead.Read("GET /x HTTP/1.1\r\nHost: Allowed.Test:8080\r\nAccept: */*\r\n\r\nbody"u8, out var head);

        Assert.Equal(new Preface(PrefaceStatus.Complete, "allowed.test"), status);
        Assert.Equal("GET /x HTTP/1.1\r\nHost: Allowed.Test:8080\r\nAccept: */*\r\n\r\n".Length, head!.Length);
        Assert.Null(HttpRequestHead.Read("GET / HTTP/1.0\r\nHost: 10.0.0.1\r\n\r\n"u8, out _).Host);
        Assert.Equal(PrefaceStatus.NeedMore, HttpRequestHead.Read("GET / HTTP/1.1\r\nHost: a.test\r\n"u8, out _).Status);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n")] // no Host
    [InlineData("GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n")] // two
    [InlineData("GET / HTTP/1.1\r\nHost: a.test\r\n folded\r\n\r\n")]
    [InlineData("GET / HTTP/2.0\r\nHost: a.test\r\n\r\n")]
    [InlineData("\u0016\u0003\u0001 not http")]
    public void Malformed_request_heads_are_refused(string request)
    {
        var data = Encoding.Latin1.GetBytes(request.Contains("\r\n\r\n", StringComparison.Ordinal) ? request : request + "\r\n\r\n");
        Assert.Equal(PrefaceStatus.Invalid, HttpRequestHead.Read(data, out _).Status);
    }

    [Fact]
    public void Header_floods_and_oversized_heads_are_refused()
    {
        var flood = new StringBuilder("GET / HTTP/1.1\r\nHost: a.test\r\n");
        for (var i = 0; i < HttpRequestHead.MaxHeaders; i++)
        {
            flood.Append("X-").Append(i).Append(": 1\r\n");
        }

        var endless = "GET / HTTP/1.1\r\nHost: a.test\r\nX-Long: " + new string('a', HttpRequestHead.MaxBytes);

        Assert.Equal(PrefaceStatus.Invalid, HttpRequestHead.Read(Encoding.ASCII.GetBytes(flood.Append("\r\n").ToString()), out _).Status);
        Assert.Equal(PrefaceStatus.Invalid, HttpRequestHead.Read(Encoding.ASCII.GetBytes(endless), out _).Status);
    }

    [Fact]
    public void Replaced_headers_take_the_place_of_the_clients_and_close_the_connection_after()
    {
        HttpRequestHead.Read("GET / HTTP/1.1\r\nHost: api.test\r\nx-token: from-sandbox\r\nConnection: keep-alive\r\n\r\n"u8, out var head);
        var rules = new EgressRules(null, [HeaderReplacement.Create("*.test", new Dictionary<string, string> { ["X-Token"] = "replaced" })]);

        var rewritten = Encoding.ASCII.GetString(head!.Rewrite(rules.HeadersFor("api.test")));

        Assert.Equal("GET / HTTP/1.1\r\nHost: api.test\r\nX-Token: replaced\r\nConnection: close\r\n\r\n", rewritten);
        Assert.Empty(rules.HeadersFor("api.example"));
        Assert.Throws<EngineException>(() => HeaderReplacement.Create("a.test", new Dictionary<string, string> { ["X"] = "a\r\nInjected: 1" }));
        Assert.Throws<EngineException>(() => HeaderReplacement.Create("a.test", new Dictionary<string, string> { ["Bad Name"] = "a" }));
    }

    [Fact]
    public void The_packet_filter_redirects_web_ports_and_lets_only_the_proxy_and_listed_cidrs_out()
    {
        var policy = new NetworkPolicy(NetworkMode.Open, ["10.9.0.0/16"]);
        var filter = SandboxNetwork.EgressFilter(policy, EgressRules.AllowOnly(["allowed.test"]), []);

        Assert.Contains("-A OUTPUT -m mark --mark 0x7e55 -j RETURN\n", filter, StringComparison.Ordinal);
        Assert.Contains("-A OUTPUT -d 10.9.0.0/16 -j RETURN\n", filter, StringComparison.Ordinal);
        Assert.Contains("-A OUTPUT -p tcp -m multiport --dports 443,80 -j REDIRECT --to-ports 15001\n", filter, StringComparison.Ordinal);
        Assert.Contains(":OUTPUT DROP [0:0]\n", filter, StringComparison.Ordinal);
        Assert.Contains("-A OUTPUT -m mark --mark 0x7e55 -j ACCEPT\n", filter, StringComparison.Ordinal);
    }
}
