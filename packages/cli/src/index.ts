export { main, commands, topHelp } from './main.js';
export { processIo, type Io, type Output, type Env } from './io.js';
export { hubOptions, hubFlagsMarkdown, type HubValues } from './hub-options.js';
export {
  parseOptions,
  renderOptions,
  renderMarkdownTable,
  type OptionSpec,
  type OptionTable,
  type OptionValues,
} from './options.js';
export { parseDuration } from './values.js';
export { CliError, CliErrorCodes, ExitCodes, UsageError } from './errors.js';
export { CLI_VERSION } from './version.js';
