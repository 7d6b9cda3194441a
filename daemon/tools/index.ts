/** The agents' workspace tools (DESIGN.md, "Agent tools") and the command runner, as one import. */
export { defineTool, runTool, toolDefinition, type Tool, type ToolContext, type ToolResult } from './tool.ts';
export { resolveWorkspacePath, WorkspacePathError, type WorkspacePath } from './workspace-path.ts';
export {
  editFileTool,
  fileTools,
  listFilesTool,
  readFileTool,
  readOnlyFileTools,
  searchFilesTool,
  writeFileTool,
} from './file-tools.ts';
export { CommandPolicy, DEFAULT_DENY_RULES, describeRefusal, type PolicyDecision, type PolicyRules } from './command-policy.ts';
export {
  COMMAND_DEFAULTS,
  CommandRunner,
  commandEnvironment,
  runCommandTool,
  type CommandOutcome,
  type CommandResult,
  type CommandRecordOptions,
  type CommandRunnerOptions,
} from './run-command.ts';
