/**
 * A small argument parser shared by the subcommands: `--name value`, `--name=value`, boolean
 * switches, `-h`/`--help`, and positional arguments. Anything else is a usage error (exit 2).
 *
 * @module
 */

/** What a subcommand accepts. */
export interface ArgSpec {
  /** Options taking a value, with their defaults (undefined: no default). */
  values?: Record<string, string | undefined>;
  /** Switches without a value. */
  switches?: readonly string[];
  /** Number of positional arguments accepted. */
  positionals?: { min: number; max: number };
}

/** Parsed arguments. */
export interface Parsed {
  values: Record<string, string | undefined>;
  switches: Set<string>;
  positionals: string[];
  help: boolean;
}

/** A usage error: printed to stderr with the command's synopsis, exit code 2. */
export class UsageError extends Error {}

/**
 * Parses a subcommand's arguments.
 *
 * @param args the arguments after the subcommand name
 * @param spec what is accepted
 * @returns the parsed arguments
 * @throws {UsageError} for unknown options, missing values and wrong positional counts
 */
export function parseArgs(args: readonly string[], spec: ArgSpec): Parsed {
  const values: Record<string, string | undefined> = { ...spec.values };
  const known = new Set(Object.keys(spec.values ?? {}));
  const switches = new Set<string>();
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "-h" || arg === "--help") {
      help = true;
      continue;
    }
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "-") {
      if (arg.startsWith("-") && arg !== "-") throw new UsageError(`unknown option "${arg}"`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (spec.switches?.includes(name)) {
      if (eq >= 0) throw new UsageError(`option "--${name}" takes no value`);
      switches.add(name);
    } else if (known.has(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`option "--${name}" needs a value`);
      values[name] = value;
    } else {
      throw new UsageError(`unknown option "--${name}"`);
    }
  }
  const { min, max } = spec.positionals ?? { min: 0, max: 0 };
  if (!help && positionals.length < min) throw new UsageError("missing argument");
  if (!help && positionals.length > max) {
    throw new UsageError(`unexpected argument "${positionals[max]}"`);
  }
  return { values, switches, positionals, help };
}

/**
 * Reads `--format`: `text` (the default) or `json`.
 *
 * @param p parsed arguments of a spec with a `format` value
 * @returns true for JSON
 * @throws {UsageError} for any other format
 */
export function wantsJson(p: Parsed): boolean {
  const f = p.values.format ?? "text";
  if (f !== "text" && f !== "json") {
    throw new UsageError(`unknown format "${f}" (use text or json)`);
  }
  return f === "json";
}

/**
 * Reads a number of seconds from an option.
 *
 * @param p parsed arguments
 * @param name the option
 * @returns the number
 * @throws {UsageError} when it is not a non-negative number
 */
export function seconds(p: Parsed, name: string): number {
  const raw = p.values[name] ?? "";
  const n = Number(raw);
  if (raw === "" || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`option "--${name}" needs a number of seconds, not "${raw}"`);
  }
  return n;
}
