using System.CommandLine;

namespace CommerceMM.Cli.Commands;

internal static class CmmRootCommand
{
    public static RootCommand Create()
    {
        var root = new RootCommand("cmm: pre-train commerce multimodal models (CommerceMM, M5Product/SCALE) across worker processes.");
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(CoordinatorCommand.Create());
        root.Subcommands.Add(WorkerCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(StopCommand.Create());
        root.Subcommands.Add(DataCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(DebugCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(CheckpointsCommand.Create());
        NumberOptions.ExplainBadNumbers(root);
        return root;
    }
}
