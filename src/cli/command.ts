/**
 * The shape of one CLI command. Each command lives in its own file under src/cli/ and is
 * registered in src/cli/commands.ts. Commands parse their own flags with `parseFlags` so that an
 * unknown flag is always a usage error (exit 2) with the command's usage line.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from '../util/errors.js';

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

export interface Command {
  /** The word typed after `airlock`. */
  name: string;
  /** One line for `airlock --help`. */
  summary: string;
  /** The usage synopsis, e.g. `airlock check FILE`. */
  usage: string;
  /** Longer help text: flags and notes, printed by `airlock <command> --help`. */
  help?: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

export interface ParsedFlags<T extends FlagSpec> {
  values: { [K in keyof T]?: T[K] extends { type: 'boolean' } ? (T[K] extends { multiple: true } ? boolean[] : boolean) : T[K] extends { multiple: true } ? string[] : string };
  positionals: string[];
  /** Arguments after `--` (or after the first positional when `stopAtPositional`), untouched. */
  rest: string[];
}

/**
 * Parses argv strictly: unknown flags and missing values are usage errors naming the command.
 * With `stopAtPositional`, everything from the first positional on is passed through untouched
 * (for `airlock run CMD --its-own-flags`).
 */
export function parseFlags<T extends FlagSpec>(
  cmd: Pick<Command, 'name' | 'usage'>,
  argv: string[],
  options: T,
  opts: { stopAtPositional?: boolean; maxPositionals?: number } = {},
): ParsedFlags<T> {
  let head = argv;
  let rest: string[] = [];
  const dd = argv.indexOf('--');
  if (opts.stopAtPositional) {
    const cut = firstPositionalIndex(argv, options);
    if (cut >= 0 && (dd < 0 || cut < dd)) {
      head = argv.slice(0, cut);
      rest = argv.slice(cut);
    } else if (dd >= 0) {
      head = argv.slice(0, dd);
      rest = argv.slice(dd + 1);
    }
  } else if (dd >= 0) {
    head = argv.slice(0, dd);
    rest = argv.slice(dd + 1);
  }
  try {
    const parsed = parseArgs({ args: head, options, allowPositionals: true, strict: true });
    if (opts.maxPositionals !== undefined && parsed.positionals.length > opts.maxPositionals) {
      throw usageError(`airlock ${cmd.name}: unexpected argument "${parsed.positionals[opts.maxPositionals]}"`, `usage: ${cmd.usage}`);
    }
    return { values: parsed.values as ParsedFlags<T>['values'], positionals: parsed.positionals, rest };
  } catch (err) {
    if (err instanceof Error && 'code' in err && String((err as { code: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
      throw usageError(`airlock ${cmd.name}: ${err.message.split('\n')[0]}`, `usage: ${cmd.usage}  (see: airlock ${cmd.name} --help)`);
    }
    throw err;
  }
}

function firstPositionalIndex(argv: string[], options: FlagSpec): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return -1;
    if (!a.startsWith('-') || a === '-') return i;
    if (a.startsWith('--')) {
      const name = a.slice(2).split('=')[0]!;
      if (!a.includes('=') && options[name]?.type === 'string') i++;
    } else if (a.length === 2) {
      const entry = Object.values(options).find((o) => o.short === a[1]);
      if (entry?.type === 'string') i++;
    }
  }
  return -1;
}

/** `--help` / `-h` anywhere before `--` asks for the command's help. */
export function wantsHelp(argv: string[]): boolean {
  const dd = argv.indexOf('--');
  const head = dd >= 0 ? argv.slice(0, dd) : argv;
  return head.includes('--help') || head.includes('-h');
}

export function commandHelp(cmd: Command): string {
  return `usage: ${cmd.usage}\n\n${cmd.summary}\n${cmd.help ? `\n${cmd.help.trimEnd()}\n` : ''}`;
}

/**
 * Splits `airlock <cmd> <sub> ...` for commands with subcommands. Returns undefined after printing
 * the command's help (`help`, `--help`, `-h`); a missing or unknown subcommand is a usage error.
 */
export function subcommand<S extends string>(cmd: Command, argv: string[], subs: readonly S[]): { sub: S; rest: string[] } | undefined {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(commandHelp(cmd));
    return undefined;
  }
  if (sub === undefined || !(subs as readonly string[]).includes(sub)) {
    throw usageError(sub === undefined ? `airlock ${cmd.name}: a subcommand is required` : `airlock ${cmd.name}: unknown subcommand "${sub}"`, `use one of: ${subs.join(', ')} (see: airlock ${cmd.name} --help)`);
  }
  return { sub: sub as S, rest };
}
