// The layer-0 namespaces (Abstractions; docs/architecture.md): every layer may use them and most files do, so they are imported once
// here rather than at the head of each file. Higher layers' namespaces stay explicit, so a file's usings still show what it reaches for.
global using Marvel.Core.Abstractions;
global using Marvel.Core.Abstractions.Learning;
global using Marvel.Core.Abstractions.Seeding;
// TorchSharp is the tensor layer every learner, network and data sampler is written in (layer 0 may use it); Environments stay
// torch-free by not naming its types, which the usings do not change.
global using TorchSharp;
global using TorchSharp.Modules;
global using static TorchSharp.torch;
