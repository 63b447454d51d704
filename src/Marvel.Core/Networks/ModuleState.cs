namespace Marvel.Core.Networks;

/// <summary>Copies module parameters and optimizer states to and from managed <see cref="StateDict"/>s and bytes.</summary>
public static class ModuleState
{
    /// <summary>Copies every parameter and buffer of <paramref name="module"/> into managed memory.</summary>
    public static StateDict ToStateDict(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        // detach/cpu/to_type make intermediate tensors; the scope frees them (the result is managed memory).
        using var scope = NewDisposeScope();
        var entries = new List<NamedTensor>();
        foreach (var (name, tensor) in module.state_dict())
        {
            using var cpu = tensor.detach().cpu().to_type(ScalarType.Float32).contiguous();
            entries.Add(new NamedTensor(name, cpu.shape.ToArray(), cpu.data<float>().ToArray()));
        }
        return new StateDict(entries);
    }

    /// <summary>
    /// Loads <paramref name="state"/> into <paramref name="module"/> strictly: every key present on both sides with equal shapes.
    /// Nothing is written unless everything matches.
    /// </summary>
    /// <param name="module">The receiving module.</param>
    /// <param name="state">The weights.</param>
    /// <param name="role">The network's role, for messages (e.g. "actor").</param>
    /// <exception cref="InvalidDataException">A key is missing or unexpected, or a shape differs; the message lists every problem.</exception>
    public static void Load(nn.Module module, StateDict state, string role)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(state);
        var target = module.state_dict();
        var problems = new List<string>();
        foreach (var (name, tensor) in target)
        {
            if (!state.TryGet(name, out var entry)) problems.Add($"missing '{name}' (expected shape [{string.Join(", ", tensor.shape)}])");
            else if (!entry.Shape.AsSpan().SequenceEqual(tensor.shape)) problems.Add($"'{name}' has shape {entry.ShapeText} but the network expects [{string.Join(", ", tensor.shape)}]");
        }
        foreach (var entry in state.Entries)
            if (!target.ContainsKey(entry.Name)) problems.Add($"unexpected '{entry.Name}'");
        if (problems.Count > 0)
            throw new InvalidDataException($"Cannot load the '{role}' weights: {string.Join("; ", problems)}. The artifact was made with other network sizes; configure matching hidden sizes.");
        using (no_grad())
        {
            foreach (var (name, tensor) in target)
            {
                state.TryGet(name, out var entry);
                using var source = torch.tensor(entry.Values, entry.Shape, ScalarType.Float32);
                tensor.copy_(source);
            }
        }
    }

    /// <summary>Serializes an optimizer's state (moments, step counts, hyper-parameters) to bytes.</summary>
    public static byte[] SaveOptimizer(TorchSharp.Modules.OptimizerHelper optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        using var memory = new MemoryStream();
        using (var writer = new BinaryWriter(memory, System.Text.Encoding.UTF8, leaveOpen: true))
            optimizer.save_state_dict(writer);
        return memory.ToArray();
    }

    /// <summary>Restores an optimizer's state from <see cref="SaveOptimizer"/> bytes.</summary>
    /// <param name="optimizer">An optimizer over parameters of the same shapes, in the same order.</param>
    /// <param name="state">The bytes.</param>
    /// <param name="role">For messages.</param>
    /// <exception cref="InvalidDataException">The bytes do not fit this optimizer.</exception>
    public static void LoadOptimizer(TorchSharp.Modules.OptimizerHelper optimizer, byte[] state, string role)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(state);
        try
        {
            using var memory = new MemoryStream(state, writable: false);
            using var reader = new BinaryReader(memory);
            optimizer.load_state_dict(reader);
        }
        catch (Exception e) when (e is not InvalidDataException and not OutOfMemoryException)
        {
            throw new InvalidDataException($"Cannot restore the '{role}' optimizer state: {e.Message}. It was saved for another optimizer kind or network shape.", e);
        }
    }

    /// <summary>Sets the learning rate of every parameter group (after loading a state, which restores the saved rate).</summary>
    public static void SetLearningRate(TorchSharp.Modules.OptimizerHelper optimizer, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        foreach (var group in optimizer.ParamGroups) group.LearningRate = learningRate;
    }
}
