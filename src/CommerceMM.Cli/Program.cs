using CommerceMM.Cli.Commands;

return CmmRootCommand.Create().Parse(args).Invoke();
