/**
 * What the plan-level checks need to know about one config: its valid host-local subnets and the
 * default routes it asks for, each with where it was found.
 *
 * @module
 */

import { Path } from "./issues";

export class SubnetRef {
  family: i32 = 0;
  hi: u64 = 0;
  lo: u64 = 0;
  prefix: i32 = 0;
  path: Path | null = null;
  offset: i32 = 0;
  length: i32 = 0;
}

export class DefaultRoute {
  path: Path | null = null;
  offset: i32 = -1;
  length: i32 = 0;
}

export class Summary {
  subnets: SubnetRef[] = [];
  /** Default-route requests for IPv4 ([0]) and IPv6 ([1]); null when none. */
  v4: DefaultRoute | null = null;
  v6: DefaultRoute | null = null;
  ifnamePtr: usize = 0;
  ifnameLen: i32 = 0;
}

/** The summary of the config being checked. */
export let current: Summary = new Summary();

export function resetSummary(): void {
  current = new Summary();
}

export function addDefaultRoute(
  family: i32,
  path: Path | null,
  offset: i32,
  length: i32,
): void {
  if (family == 4 ? current.v4 != null : current.v6 != null) return;
  const d = new DefaultRoute();
  d.path = path;
  d.offset = offset;
  d.length = length;
  if (family == 4) current.v4 = d;
  else current.v6 = d;
}
