// Minimal host so the engine project builds; the engine's real entry point replaces this file.
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
await app.RunAsync().ConfigureAwait(false);
