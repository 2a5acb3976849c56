using System.CommandLine;

namespace CommerceMM.Cli.Hosting;

/// <summary>
/// A command that stops gracefully on SIGTERM or SIGINT (a checkpoint, an unfinished folder named). Program installs the
/// process's <see cref="Signals"/> for it before libtorch loads, which takes about half a second: a stop that arrives
/// while it starts is then a graceful stop too, not death by the signal (exit 143).
/// </summary>
internal sealed class StoppableCommand(string name, string description) : Command(name, description);
