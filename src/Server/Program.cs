using TypedSandbox.Server.Hosting;

// The engine executable: `typedsandbox-server [--port N] [--state-dir DIR] [--runtime crun|runsc] [--registry-mirror URL]...
// [--token-file FILE] [--bind ADDRESS --tls-cert CERT.pem --tls-key KEY.pem]`,
// and `typedsandbox-server secret set|list|delete ...` for named secrets.
if (args is ["secret", .. var secretArgs])
{
    return await SecretCommand.RunAsync(secretArgs, Environment.GetEnvironmentVariable, Console.Out, Console.Error, CancellationToken.None).ConfigureAwait(false);
}

var parsed = EngineCommandLine.Parse(args, Environment.GetEnvironmentVariable);
if (parsed.Error is { } error)
{
    await Console.Error.WriteLineAsync(error).ConfigureAwait(false);
    await Console.Error.WriteLineAsync(EngineCommandLine.Usage).ConfigureAwait(false);
    return 2;
}

if (parsed.ShowHelp)
{
    Console.WriteLine(EngineCommandLine.Usage);
    return 0;
}

try
{
    await using var host = await EngineHost.StartAsync(parsed.Options!).ConfigureAwait(false);
    Console.WriteLine($"TypedSandbox engine listening on {host.Url} (runtime {parsed.Options!.Runtime}, state {parsed.Options.StateDirectory})");
    // Clients need only this line (the profile holds the URL and the token pair; it is readable by root only).
    Console.WriteLine($"MODAL_CONFIG_PATH={host.ConfigPath}");
    await host.WaitForShutdownAsync().ConfigureAwait(false);
    return 0;
}
catch (Exception exception) when (exception is TypedSandbox.Server.Isolation.HostNotReadyException or ArgumentException or IOException or InvalidDataException)
{
    await Console.Error.WriteLineAsync("The engine could not start: " + exception.Message).ConfigureAwait(false);
    return 1;
}
