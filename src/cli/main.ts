/** CLI entry: dispatches `airlock <command>` and prints errors without stack traces. */
import { commands, type CommandEntry } from './commands.js';
import { commandHelp, wantsHelp } from './command.js';
import { formatError, isAirlockError } from '../util/errors.js';

export function globalHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'airlock — contain AI coding agents: isolation, default-deny policy, egress proxy,',
    'session-scoped secrets, a signed audit trail, and PR risk scoring.',
    '',
    'usage: airlock <command> [flags]',
    '',
    'commands:',
    ...lines,
    '',
    'Run `airlock <command> --help` for a command\'s flags.',
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    const entry = topic ? find(topic) : undefined;
    if (topic && !entry) return unknownCommand(topic);
    process.stdout.write(entry ? commandHelp(await entry.load()) : globalHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`airlock ${await version()}\n`);
    return 0;
  }
  const entry = find(name);
  if (!entry) return unknownCommand(name);
  const cmd = await entry.load();
  if (wantsHelp(rest) && !cmd.usage.includes('<subcommand>')) {
    process.stdout.write(commandHelp(cmd));
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    process.stderr.write(`airlock ${cmd.name}: ${formatError(err).replace(new RegExp(`^airlock ${cmd.name}: `), '')}\n`);
    if (!isAirlockError(err) && process.env.AIRLOCK_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return isAirlockError(err) ? err.exitCode : 70;
  }
}

function find(name: string): CommandEntry | undefined {
  return commands.find((c) => c.name === name);
}

function unknownCommand(name: string): number {
  process.stderr.write(`airlock: unknown command "${name}"\n  hint: run \`airlock --help\` to list the commands\n`);
  return 2;
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
