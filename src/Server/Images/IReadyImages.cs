namespace TypedSandbox.Server.Images;

/// <summary>Where the sandbox core gets a built image to start from (<see cref="ImageBuilds"/>).</summary>
internal interface IReadyImages
{
    /// <summary>The built image <paramref name="imageId"/>, waiting for its build if it still runs.</summary>
    /// <exception cref="Engine.EngineException">No such image, or its build failed.</exception>
    Task<ImageRecord> GetReadyAsync(string imageId, CancellationToken cancellationToken);
}
