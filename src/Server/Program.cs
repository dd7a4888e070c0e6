// Minimal host so the engine project builds; the lead's Program.cs replaces this.
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
await app.RunAsync().ConfigureAwait(false);
