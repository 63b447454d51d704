namespace Marvel.Core.Data.Dsrl;

/// <summary>
/// What a DSRL HDF5 file says about its own making, stored as attributes of the file's root: the task it was recorded on,
/// the recipe and the recipe's options, the library version and the seed. DSRL's own files carry none of them (every
/// property is then null); files written by <c>marvel collect</c> carry all that apply.
/// </summary>
/// <remarks>
/// Each attribute is a scalar HDF5 string (h5py reads it as <c>str</c>), the seed a scalar uint64, under the names in
/// <see cref="TaskIdName"/> ... <see cref="SeedName"/>. <see cref="DsrlFile.ReadForTask"/> refuses a file whose
/// <see cref="TaskId"/> names another task.
/// </remarks>
public sealed record DsrlFileAttributes
{
    /// <summary>Attribute name of <see cref="TaskId"/>.</summary>
    public const string TaskIdName = "task_id";

    /// <summary>Attribute name of <see cref="Recipe"/>.</summary>
    public const string RecipeName = "recipe";

    /// <summary>Attribute name of <see cref="RecipeOptions"/>.</summary>
    public const string RecipeOptionsName = "recipe_options";

    /// <summary>Attribute name of <see cref="LibraryVersion"/>.</summary>
    public const string LibraryVersionName = "library_version";

    /// <summary>Attribute name of <see cref="Seed"/>.</summary>
    public const string SeedName = "seed";

    /// <summary>The id of the task the transitions were recorded on (its <c>EnvironmentSpec.Id</c>, e.g. "BallCircle"), or null.</summary>
    public string? TaskId { get; init; }

    /// <summary>How the episodes were made, e.g. "frontier" or "scripted-sweep", or null.</summary>
    public string? Recipe { get; init; }

    /// <summary>The recipe's options as JSON (every field, defaults included), or null.</summary>
    public string? RecipeOptions { get; init; }

    /// <summary>The Marvel.Core version that wrote the file, or null.</summary>
    public string? LibraryVersion { get; init; }

    /// <summary>The one seed the whole file follows from, or null.</summary>
    public ulong? Seed { get; init; }

    /// <summary>True when no attribute is set (a DSRL file or one written without attributes).</summary>
    public bool IsEmpty => TaskId is null && Recipe is null && RecipeOptions is null && LibraryVersion is null && Seed is null;

    /// <summary>The version string of this library, as <see cref="LibraryVersion"/> records it.</summary>
    public static string CurrentLibraryVersion { get; } = typeof(DsrlFileAttributes).Assembly.GetName().Version?.ToString() ?? "0.0.0";
}
