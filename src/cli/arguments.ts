/** The command line of `kube-lego` (src/cli/main.ts), parsed. Pure. */

/** What the command line asks for; a string is an error message for people. */
export type ParsedArguments =
  | { command: 'status'; target?: string; output: 'table' | 'json'; operatorNamespace: string }
  | { command: 'help' }
  | string;

/** Parses `status [namespace/secret | namespace] [-o json|table] [--operator-namespace NS]` or `help`. */
export function parseArguments(argv: readonly string[]): ParsedArguments {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    return { command: 'help' };
  }
  if (command !== 'status') return `unknown command "${command}"`;
  let output: 'table' | 'json' = 'table';
  let operatorNamespace = 'kube-lego';
  let target: string | undefined;
  for (let i = 0; i < rest.length; i += 1) {
    const argument = rest[i]!;
    if (argument === '-o' || argument === '--output') {
      const value = rest[(i += 1)];
      if (value !== 'json' && value !== 'table') return `-o takes json or table, not "${value ?? ''}"`;
      output = value;
    } else if (argument === '--operator-namespace') {
      const value = rest[(i += 1)];
      if (!value) return '--operator-namespace takes a namespace';
      operatorNamespace = value;
    } else if (argument.startsWith('-')) {
      return `unknown option "${argument}"`;
    } else if (target === undefined) {
      target = argument;
    } else {
      return `one certificate or namespace at most, not "${target}" and "${argument}"`;
    }
  }
  return { command: 'status', output, operatorNamespace, ...(target !== undefined && { target }) };
}
