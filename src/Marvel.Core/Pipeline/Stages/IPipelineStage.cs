namespace Marvel.Core.Pipeline.Stages;

/// <summary>
/// One stage of the pipeline over the run's shared <see cref="PipelineRun"/>. <see cref="MarvelPipeline"/> only sequences them: on a
/// resume a stage whose output is on disk (<see cref="IsComplete"/>) is <see cref="Load"/>ed, every other one <see cref="Run"/>s, and
/// continues from its own checkpoint when it has one.
/// </summary>
internal interface IPipelineStage
{
    /// <summary>The stage's name (<see cref="MarvelPipelineStages"/>).</summary>
    string Name { get; }

    /// <summary>True when the stage's output is complete on disk, so a resume loads it instead of running the stage again.</summary>
    bool IsComplete(PipelineRun run);

    /// <summary>Takes the stage's output from disk into <paramref name="run"/> (only when <see cref="IsComplete"/>).</summary>
    void Load(PipelineRun run);

    /// <summary>Runs the stage, from its newest checkpoint on a resume when it has one, and saves its output.</summary>
    void Run(PipelineRun run);
}
