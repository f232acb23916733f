/**
 * Pre-flight validation of a plan in the WebAssembly validator: every delegate config and the
 * plan as a whole are checked before the first delegate runs, so a bad config touches nothing.
 *
 * @module
 */

import { issuesToError, validatePlan } from "../validator/mod.ts";
import type { NetConf } from "./netconf.ts";
import { delegateText } from "./delegate.ts";
import type { Plan } from "./plan.ts";

/**
 * Validates every attachment's config and the plan as a whole.
 *
 * @param plan the plan
 * @param conf the meta config (`allowSubnetOverlap`)
 * @returns the warnings (overlaps the config allows), as messages
 * @throws {CniError} code 7 naming the network, JSON path and reason of the first error
 */
export function validatePlanOrThrow(plan: Plan, conf: NetConf): string[] {
  const issues = validatePlan(
    plan.attachments.map((a) => ({
      network: a.network,
      ifname: a.ifname,
      config: delegateText(a.delegate),
    })),
    { allowSubnetOverlap: conf.allowSubnetOverlap },
  );
  const err = issuesToError(issues);
  if (err) throw err;
  return issues.map((i) => `${i.network}: ${i.path}: ${i.message}`);
}
